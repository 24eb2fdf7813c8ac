import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2"];

describe("faults of a stdio server", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy([...FAST, "--tool-timeout", "0.5", "--max-tool-timeout", "1.2"], FIXTURE_STDIO);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("survives garbage and an over-10-MiB line on stdout", async () => {
    const answer = await proxy.post("/garbage", { bytes: 11 * 1024 * 1024 });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "garbage sent");
    assert.equal((await proxy.post("/echo-args", { after: "garbage" })).status, 200);
    assert.equal(((await proxy.get("/health")).body as Json).details.reconnect_count, 0, "no restart was needed");
  });

  it("stays responsive while the server floods stderr, and counts what it does not log", async () => {
    const flood = proxy.post("/flood", { lines: 100_000 });
    const started = Date.now();
    const echo = await proxy.post("/echo-args", { during: "flood" });
    assert.equal(echo.status, 200);
    assert.ok(Date.now() - started < 3000);
    assert.equal((await flood).status, 200);
    await waitFor("the suppression report", () =>
      proxy.logs().some((line) => line.msg === "stderr flood: lines not logged" && Number(line.suppressed) > 0),
    );
  });

  it("cancels the upstream call when the caller disconnects", async () => {
    const caller = new AbortController();
    const call = fetch(`${proxy.url}/sleep`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ms: 4000 }),
      signal: caller.signal,
    });
    await waitFor("the call to start", () => proxy.logs().some((line) => line.msg === "fixture: sleep 4000 started"));
    caller.abort();
    await assert.rejects(call);
    await waitFor("the cancellation upstream", () =>
      proxy.logs().some((line) => line.msg === "fixture: sleep 4000 cancelled"),
    );
  });

  it("lets progress notifications extend the tool timeout, up to the hard cap", async () => {
    // 6 × 150 ms = 0.9 s > tool timeout 0.5 s, but progress keeps it alive.
    const progressing = await proxy.post("/progress", { steps: 6, ms: 150 });
    assert.equal(progressing.status, 200);
    assert.equal(progressing.body, "progressed 6 steps");
    // The same length of silence times out.
    const silent = await proxy.post("/sleep", { ms: 900 });
    assert.equal(silent.status, 504);
    // Progress forever still ends at --max-tool-timeout (1.2 s).
    const started = Date.now();
    const capped = await proxy.post("/progress", { steps: 40, ms: 100 });
    assert.equal(capped.status, 504);
    assert.match((capped.body as Json).detail.message, /past the cap of 1\.2 s; the call was cancelled upstream/);
    assert.ok(Date.now() - started < 2500);
  });

  it("follows tools/list_changed: new tools get routes and documentation", async () => {
    assert.equal((await proxy.post("/fresh-tool", {})).status, 404);
    assert.equal((await proxy.post("/add-tool", { name: "fresh-tool" })).status, 200);
    const answer = await waitFor("the new route", async () => {
      const attempt = await proxy.post("/fresh-tool", {});
      return attempt.status === 200 ? attempt : undefined;
    });
    assert.equal(answer.body, "added tool fresh-tool");
    assert.ok(((await proxy.get("/openapi.json")).body as Json).paths["/fresh-tool"]);
  });

  it("answers every call of a server that crashes every third call: 200 or 503, never twice, never dropped", async () => {
    process.env.FIXTURE_CRASH_AFTER = "3";
    const crashy = await startProxy([...FAST, "--connection-timeout", "30"], FIXTURE_STDIO);
    delete process.env.FIXTURE_CRASH_AFTER;
    await waitForHealth(crashy, 200);
    // Rounds of concurrent calls: a crash fails the calls in flight with it, the others wait for the reconnect.
    const answers: { i: number; status: number; body: unknown }[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = await Promise.all(
        Array.from({ length: 6 }, async (_, k) => {
          const i = round * 6 + k;
          const answer = await crashy.post("/echo-args", { i });
          return { i, status: answer.status, body: answer.body };
        }),
      );
      answers.push(...batch);
    }
    assert.equal(answers.length, 24, "every call answered");
    for (const { i, status, body } of answers) {
      if (status === 200) assert.deepEqual(body, { i }, "each caller gets its own answer, once");
      else {
        assert.equal(status, 503, JSON.stringify(body));
        assert.match((body as Json).detail.message, /may or may not have run|cannot run/);
      }
    }
    assert.ok(
      answers.some((answer) => answer.status === 503),
      "the crashes fail the calls in flight",
    );
    assert.ok(answers.some((answer) => answer.status === 200));
    const health = (await crashy.get("/health")).body as Json;
    assert.ok(health.details.reconnect_count >= 1);
    await crashy.stop();
  });
});

describe("a stdio server that never answers", () => {
  after(stopAll);

  it("is reported down after the connection timeout, calls get 503 at once, and shutdown ends it", async () => {
    const marker = `stall-marker-${process.pid}`;
    process.env.FIXTURE_STALL_AT_START = "1";
    const proxy = await startProxy(
      ["--connection-timeout", "0.3", "--retry-attempts", "1", ...FAST],
      [...FIXTURE_STDIO, marker],
    );
    delete process.env.FIXTURE_STALL_AT_START;
    const down = await waitFor("down", async () => {
      const answer = await proxy.get("/health");
      return (answer.body as Json).details.state === "down" ? answer : undefined;
    });
    assert.match((down.body as Json).details.last_error, /no answer within the connection timeout of 0\.3 s/);
    const started = Date.now();
    assert.equal((await proxy.post("/pid", {})).status, 503);
    assert.ok(Date.now() - started < 1000, "no waiting on a dead upstream");
    assert.equal(await proxy.stop(), 0);
    assert.equal(spawnSync("pgrep", ["-f", marker]).status, 1, "no stalled server left behind");
  });
});

describe("tools that do not match the MCP schema", () => {
  after(stopAll);

  it("do not keep the server down: a named one is served, a nameless one skipped, both reported", async () => {
    process.env.FIXTURE_BAD_TOOLS = "1";
    const proxy = await startProxy(FAST, FIXTURE_STDIO);
    delete process.env.FIXTURE_BAD_TOOLS;
    await waitForHealth(proxy, 200);
    const answer = await proxy.post("/untyped", { a: "x" });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { a: "x" });
    assert.equal((await proxy.post("/untyped", { a: 1 })).status, 422, "its schema still validates");
    await proxy.waitForLog("the report", (line) => String(line.msg).startsWith('tool "untyped" does not match'));
    await proxy.waitForLog("the skip", (line) => String(line.msg).startsWith("a tool without a name was skipped"));
    await proxy.stop();
  });
});

describe("max_concurrency and max_queue", () => {
  after(stopAll);

  it("queue calls past the limit and refuse those past the queue with 503", async () => {
    const [command, ...args] = FIXTURE_STDIO;
    const config = configFile({
      mcpServers: { slow: { command, args, connection_settings: { max_concurrency: 1, max_queue: 1 } } },
    });
    const proxy = await startProxy(["--config", config.path], []);
    await waitForHealth(proxy, 200);
    const calls = [400, 400, 400].map((ms) => proxy.post("/slow/sleep", { ms }));
    const answers = await Promise.all(calls);
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    const refused = answers.find((answer) => answer.status === 503)!;
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.match((refused.body as Json).detail.message, /busy \(1 calls running and 1 waiting\)/);
    await proxy.stop();
  });
});
