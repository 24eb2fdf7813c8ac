import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FIXTURE_STDIO, startFixtureHttp } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { selfSignedCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const [command, ...args] = FIXTURE_STDIO;

describe("config mode: keys, prefix and unknown keys", () => {
  let proxy: Proxy;
  before(async () => {
    const config = configFile({
      mcpServers: {
        open: { command, args },
        private: { command, args, api_key: "private-key", colour: "blue" },
      },
      connection_settings: { retry_delay: 0.05, surprise: 1 },
    });
    proxy = await startProxy(
      ["--config", config.path, "--api-key", "global-key", "--path-prefix", "tools", "--root-path", "/base"],
      [],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("mounts servers under --path-prefix, with --root-path in every public URL", async () => {
    assert.equal((await proxy.post("/tools/open/pid", {}, bearer("global-key"))).status, 200);
    assert.equal((await proxy.post("/base/tools/open/pid", {}, bearer("global-key"))).status, 200);
    assert.equal((await proxy.post("/open/pid", {}, bearer("global-key"))).status, 404);
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.ok(doc.paths["/tools/open/pid"]);
    assert.deepEqual(doc.servers, [{ url: "/base" }]);
    const own = (await proxy.get("/tools/open/openapi.json")).body as Json;
    assert.deepEqual(own.servers, [{ url: "/base/tools/open" }]);
    assert.match(
      (await proxy.get("/tools/open/docs/swagger-ui-init.js")).text,
      /"url": "\/base\/tools\/open\/openapi.json"/,
    );
    assert.equal((await proxy.get("/tools/open/docs")).headers.get("location"), "/base/tools/open/docs/");
    assert.match((await proxy.get("/docs/swagger-ui-init.js")).text, /"url": "\/base\/openapi.json"/);
  });

  it("guards every server with --api-key, and a server with its own api_key by that key only", async () => {
    assert.equal((await proxy.post("/tools/open/pid", {})).status, 401);
    assert.equal((await proxy.post("/tools/open/pid", {}, bearer("wrong"))).status, 403);
    assert.equal((await proxy.post("/tools/private/pid", {}, bearer("global-key"))).status, 403);
    assert.equal((await proxy.post("/tools/private/pid", {}, bearer("private-key"))).status, 200);
  });

  it("reports unknown keys as warnings with their path", () => {
    const warnings = proxy
      .logs()
      .filter((line) => line.level === "warn")
      .map((line) => String(line.msg));
    assert.ok(warnings.includes("mcpServers.private.colour: unknown key, ignored"), warnings.join("\n"));
    assert.ok(warnings.includes("connection_settings.surprise: unknown key, ignored"), warnings.join("\n"));
  });
});

describe("config mode: health_check_interval", () => {
  after(stopAll);

  it("notices a dead upstream without any call", async () => {
    const upstream = await startFixtureHttp();
    const config = configFile({
      mcpServers: { remote: { type: "streamable-http", url: upstream.url } },
      connection_settings: { health_check_interval: 0.1, retry_delay: 0.05, max_retry_delay: 0.2 },
    });
    const proxy = await startProxy(["--config", config.path], []);
    // GET / reports the state without checking anything itself.
    const state = async () => ((await proxy.get("/")).body as Json).servers.remote.state as string;
    await waitFor("ready", async () => (await state()) === "ready");
    await upstream.stop();
    await waitFor("the active check to notice", async () => (await state()) !== "ready");
    // Only the active check talks to the upstream here: either its ping is refused ("active health check failed"),
    // or the ping's own response stream breaks as the upstream dies, which drops the connection at once.
    await waitFor("the warning", () =>
      proxy
        .logs()
        .some(
          (line) =>
            line.msg === "active health check failed" ||
            (line.level === "warn" && String(line.msg).startsWith("lost the connection")),
        ),
    );
    await proxy.stop();
  });
});

describe("config mode: TLS to a remote upstream", () => {
  after(stopAll);

  it("verifies with ssl_ca_path, accepts any certificate with verify_ssl false, and refuses an unknown one", async () => {
    const tls = selfSignedCertificate();
    const upstream = await startFixtureHttp({ tls });
    const config = configFile({
      mcpServers: {
        trusted: { type: "streamable-http", url: upstream.url, ssl_ca_path: tls.cert },
        unchecked: { type: "streamable-http", url: upstream.url, verify_ssl: false },
        strict: { type: "streamable-http", url: upstream.url },
      },
      connection_settings: { retry_delay: 0.05, max_retry_delay: 0.2, retry_attempts: 1 },
    });
    const proxy = await startProxy(["--config", config.path], []);
    await waitFor("trusted and unchecked ready", async () => {
      const servers = ((await proxy.get("/health")).body as Json).servers as Json;
      return servers.trusted.details.state === "ready" && servers.unchecked.details.state === "ready";
    });
    assert.equal((await proxy.post("/trusted/pid", {})).status, 200);
    assert.equal((await proxy.post("/unchecked/pid", {})).status, 200);
    const strict = await waitFor("strict to be down", async () => {
      const answer = await proxy.get("/strict/health");
      return (answer.body as Json).details.state === "down" ? answer : undefined;
    });
    assert.equal(strict.status, 503);
    assert.equal((await proxy.post("/strict/pid", {})).status, 503);
    await proxy.stop();
  });
});
