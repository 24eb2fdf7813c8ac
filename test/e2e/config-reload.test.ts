import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile, configMapVolume } from "../helpers/config-file.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { isAlive, waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const [command, ...args] = FIXTURE_STDIO;
const fixture = (env: Record<string, string> = {}) => ({ command, args, env });
const settings = { retry_delay: 0.05, max_retry_delay: 0.2 };

async function ready(proxy: Proxy, names: string[]): Promise<void> {
  await waitFor(`${names.join(", ")} ready`, async () => {
    const servers = ((await proxy.get("/health")).body as Json).servers as Json;
    return names.every((name) => servers[name]?.details.state === "ready");
  });
}

const reloads = (proxy: Proxy) => proxy.logs().filter((line) => line.msg === "config reloaded").length;

describe("--hot-reload", () => {
  after(stopAll);

  it("adds, removes and replaces servers while a call on an unchanged server completes", async () => {
    const config = configFile({
      mcpServers: { steady: fixture(), doomed: fixture(), changing: fixture({ FIXTURE_GREETING: "one" }) },
      connection_settings: settings,
    });
    const proxy = await startProxy(["--config", config.path, "--hot-reload"], []);
    await ready(proxy, ["steady", "doomed", "changing"]);
    const steadyPid = (await proxy.post("/steady/pid", {})).body;
    const doomedPid = Number((await proxy.post("/doomed/pid", {})).body);
    const longCall = proxy.post("/steady/sleep", { ms: 1500 });
    const changingCall = proxy.post("/changing/sleep", { ms: 1200 });
    await waitFor("the long calls to reach their servers", () =>
      ["steady", "changing"].every((name) =>
        proxy.logs().some((line) => line.upstream === name && String(line.msg).startsWith("fixture: sleep 1")),
      ),
    );

    config.write({
      mcpServers: { steady: fixture(), changing: fixture({ FIXTURE_GREETING: "two" }), newcomer: fixture() },
      connection_settings: settings,
    });
    await waitFor("the reload", () => reloads(proxy) === 1);
    const report = proxy.logs().find((line) => line.msg === "config reloaded")!;
    assert.deepEqual(
      { added: report.added, removed: report.removed, changed: report.changed, unchanged: report.unchanged },
      { added: ["newcomer"], removed: ["doomed"], changed: ["changing"], unchanged: ["steady"] },
    );

    // Removed: routes gone, process gone.
    assert.equal((await proxy.post("/doomed/pid", {})).status, 404);
    await waitFor("the removed server's process to end", () => !isAlive(doomedPid), 5000);
    // Added and changed: connected with their new settings.
    await ready(proxy, ["steady", "changing", "newcomer"]);
    assert.equal((await proxy.post("/newcomer/pid", {})).status, 200);
    assert.equal((await proxy.post("/changing/env", { name: "FIXTURE_GREETING" })).body, "two");
    // Changed: the call it was running when it was replaced still completed (drained, then closed).
    const drained = await changingCall;
    assert.equal(drained.status, 200);
    assert.equal(drained.body, "slept 1200");
    // Unchanged: same process, and the call in flight during the reload completed.
    const answer = await longCall;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "slept 1500");
    assert.equal((await proxy.post("/steady/pid", {})).body, steadyPid);
    // The aggregated spec followed.
    const paths = Object.keys(((await proxy.get("/openapi.json")).body as Json).paths);
    assert.ok(paths.includes("/newcomer/pid") && !paths.some((path) => path.startsWith("/doomed/")));
    const health = (await proxy.get("/health")).body as Json;
    assert.deepEqual(Object.keys(health.servers).sort(), ["changing", "newcomer", "steady"]);

    // An invalid file is refused with its problems, and the running config stays.
    config.write({ mcpServers: { steady: { type: "sse" } } });
    await waitFor("the refusal", () =>
      proxy.logs().some((line) => String(line.msg).includes("invalid; keeping the running config")),
    );
    const refusal = proxy.logs().find((line) => String(line.msg).includes("invalid; keeping"))!;
    assert.deepEqual(refusal.problems, ['mcpServers.steady.url: required for type "sse"']);
    assert.equal((await proxy.post("/newcomer/pid", {})).status, 200);
    assert.equal(reloads(proxy), 1);

    // Disabling a server takes it down like a removal, and lists it as disabled.
    config.write({
      mcpServers: { steady: fixture(), changing: { ...fixture(), disabled: true } },
      connection_settings: settings,
    });
    await waitFor("the second reload", () => reloads(proxy) === 2);
    assert.equal((await proxy.post("/changing/pid", {})).status, 404);
    assert.deepEqual(((await proxy.get("/health")).body as Json).disabled, ["changing"]);
    assert.equal(await proxy.stop(), 0);
  });

  it("follows a Kubernetes ConfigMap volume, whose update renames a ..data link and never writes config.json", async () => {
    const config = configMapVolume({ mcpServers: { first: fixture() }, connection_settings: settings });
    const proxy = await startProxy(["--config", config.path, "--hot-reload"], []);
    await ready(proxy, ["first"]);
    config.write({ mcpServers: { first: fixture(), second: fixture() }, connection_settings: settings });
    await waitFor("the reload", () => reloads(proxy) === 1);
    await ready(proxy, ["first", "second"]);
    assert.equal((await proxy.post("/second/pid", {})).status, 200);
    assert.equal(await proxy.stop(), 0);
  });
});
