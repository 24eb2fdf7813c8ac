/**
 * How the proxy finds an upstream's protocol era, through the real CLI:
 * `auto` reaches every kind of server, a pin or `legacy` that cannot be met is
 * an `incompatible` state of its own (not an outage), the era found is kept
 * across reconnects, and the 2026-07-28 wire details hold.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { EXIT_ON_PROBE_STDIO, startV2Http, V2_STDIO } from "../fixtures/v2/index.js";
import { startEverything } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST_RETRY = ["--retry-delay", "0.1", "--max-retry-delay", "0.5"];

describe("era negotiation", () => {
  const proxies: Proxy[] = [];
  const start = async (options: string[], target: readonly string[]): Promise<Proxy> => {
    const proxy = await startProxy([...FAST_RETRY, ...options], [...target]);
    proxies.push(proxy);
    return proxy;
  };
  after(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await stopAll();
  });

  it("auto reaches a 2025 server that exits on the server/discover probe, by starting it again", async () => {
    const proxy = await start([], EXIT_ON_PROBE_STDIO);
    const health = await waitForHealth(proxy, 200);
    assert.equal((health.body as Json).details.era, "legacy");
    assert.equal((health.body as Json).details.reconnect_count, 0, "one connection, not a reconnect");
    const { status, body } = await proxy.post("/echo", { message: "rmcp-like" });
    assert.equal(status, 200);
    assert.match(String(body), /rmcp-like/);
  });

  it("auto reaches a 2025-only server on the v1 SDK, and a 2026-07-28-only one, over stdio", async () => {
    const legacy = await start([], FIXTURE_STDIO);
    const modern = await start([], V2_STDIO["modern-only"]);
    assert.equal(((await waitForHealth(legacy, 200)).body as Json).details.era, "legacy");
    assert.equal(((await waitForHealth(modern, 200)).body as Json).details.era, "modern");
  });

  it("legacy against a 2026-07-28-only server: incompatible, 502 upstream_incompatible naming both sides and what to change", async () => {
    const upstream = await startV2Http({ era: "modern-only" });
    const proxy = await start(["--type", "streamable-http", "--protocol", "legacy"], [upstream.url]);
    const health = await waitForHealth(proxy, 503);
    await waitFor(
      "the incompatible state",
      async () => ((await proxy.get("/health")).body as Json).details.state === "incompatible",
    );
    const details = ((await proxy.get("/health")).body as Json).details;
    assert.deepEqual(details.versions.upstream, ["2026-07-28"]);
    assert.ok(details.versions.ours.includes("2025-11-25") && !details.versions.ours.includes("2026-07-28"));
    assert.equal((health.body as Json).status, "unhealthy");
    const call = await proxy.post("/echo", { message: "x" });
    assert.equal(call.status, 502);
    assert.equal((call.body as Json).detail.code, "upstream_incompatible");
    assert.match((call.body as Json).detail.message, /it supports 2026-07-28.*set protocol to auto/);
    assert.equal(call.headers.get("retry-after"), null, "not an outage: no Retry-After");
  });

  it("a 2026-07-28-only stdio server too slow for the probe is probed again, not declared incompatible", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "mcpo-slow-start-")), "started");
    // Probe bound: half of the 10 s connection timeout. The first start takes over 6 s, so the probe goes unanswered,
    // the fallback initialize reaches a server that refuses 2025, and the next attempt (a warm start) probes again.
    const proxy = await start(
      [
        "--connection-timeout",
        "10",
        "--env",
        `V2_FIXTURE_FIRST_START_MARKER=${marker}`,
        "--env",
        "V2_FIXTURE_FIRST_START_DELAY_MS=6000",
      ],
      V2_STDIO["modern-only"],
    );
    const health = await waitForHealth(proxy, 200, 30_000);
    assert.equal((health.body as Json).details.era, "modern");
    assert.ok(existsSync(marker), "the slow first start happened");
    const states = proxy.logs().filter((line) => String(line.msg).includes("speaks no MCP revision we offered"));
    assert.deepEqual(states, [], "never reported incompatible");
    const missed = proxy
      .logs()
      .find((line) => /did not answer the server\/discover probe in time/.test(String(line.error)));
    assert.ok(missed, "the missed probe is said in the log");
  });

  it("keeps the era found across reconnects: one server/discover probe for the first connection, none after", async () => {
    const proxy = await start([], V2_STDIO["modern-only"]);
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/crash", {})).status, 503);
    const health = await waitForHealth(proxy, 200);
    assert.equal((health.body as Json).details.reconnect_count, 1);
    assert.equal((health.body as Json).details.era, "modern");
    assert.equal((await proxy.post("/echo", { message: "again" })).status, 200);
    const probes = proxy
      .logs()
      .filter((line) => line.stream === "stderr" && line.msg === "v2 fixture: opened with server/discover");
    assert.equal(probes.length, 1, "probed once, by the first connection");
    // The log travels on stderr, /health on a socket: the second "connected to" may still be on its way.
    const connectedLines = () => proxy.logs().filter((line) => String(line.msg).startsWith("connected to"));
    await waitFor("the second connect in the log", () => connectedLines().length >= 2);
    const connected = connectedLines();
    assert.deepEqual(
      connected.map((line) => line.protocol_version),
      ["2026-07-28", "2026-07-28"],
    );
  });

  it("reconnects to a restarted 2026-07-28 HTTP server in the era it found", async () => {
    const first = await startV2Http({ era: "modern-only" });
    const proxy = await start(["--type", "streamable-http"], [first.url]);
    await waitForHealth(proxy, 200);
    await first.stop();
    await waitForHealth(proxy, 503);
    await startV2Http({ era: "modern-only", port: first.port });
    const health = await waitForHealth(proxy, 200);
    assert.equal((health.body as Json).details.era, "modern");
    assert.equal((await proxy.post("/echo", { message: "back" })).status, 200);
  });

  it("a pin against a 2025-only server: incompatible over stdio too", async () => {
    const proxy = await start(["--protocol", "2026-07-28"], FIXTURE_STDIO);
    await waitFor(
      "the incompatible state",
      async () => ((await proxy.get("/health")).body as Json).details.state === "incompatible",
    );
    const call = await proxy.post("/echo-args", { a: 1 });
    assert.equal(call.status, 502);
    assert.equal((call.body as Json).detail.code, "upstream_incompatible");
    assert.match(
      (call.body as Json).detail.message,
      /pinned protocol version 2026-07-28.*pinned to 2026-07-28: set protocol to auto/,
    );
  });

  it("an incompatible upstream is retried only at max_retry_delay, and connects once it speaks our revision", async () => {
    const modernOnly = await startV2Http({ era: "modern-only" });
    const proxy = await start(
      ["--type", "streamable-http", "--protocol", "legacy", "--retry-delay", "0.05", "--max-retry-delay", "1.5"],
      [modernOnly.url],
    );
    const attempts = (): number =>
      proxy.logs().filter((line) => line.msg === `connecting to StreamableHTTP-${modernOnly.url}`).length;
    await waitFor(
      "the incompatible state",
      async () => ((await proxy.get("/health")).body as Json).details.state === "incompatible",
    );
    const before = attempts();
    // At the fast pace (0.05 s doubling) five more attempts would fit in these 2.2 s; at max_retry_delay, one.
    await new Promise((resolve) => setTimeout(resolve, 2200));
    const during = attempts() - before;
    assert.ok(during >= 1 && during <= 2, `${during} attempts in 2.2 s while incompatible`);
    assert.equal(((await proxy.get("/health")).body as Json).details.state, "incompatible", "still not an outage");
    // The same address now serves both eras (an upgraded server): picked up by the next slow retry.
    await modernOnly.stop();
    await startV2Http({ era: "dual", port: modernOnly.port });
    const health = await waitForHealth(proxy, 200);
    assert.equal((health.body as Json).details.era, "legacy");
    assert.equal((health.body as Json).details.versions, undefined);
    assert.equal((await proxy.post("/echo", { message: "upgraded" })).status, 200);
  });
});

describe("2026-07-28 wire details", () => {
  after(stopAll);

  it("sends Mcp-Method, Mcp-Name and the Mcp-Param-* headers a tool declares, and leaves out a tool whose declarations are invalid", async () => {
    const upstream = await startV2Http({ era: "modern-only" });
    const proxy = await startProxy(["--type", "streamable-http"], [upstream.url]);
    await waitForHealth(proxy, 200);
    const { status, body } = await proxy.post("/echo-mcp-headers", { region: "eu-west", note: "not mirrored" });
    assert.equal(status, 200);
    const headers = body as Json;
    assert.equal(headers["mcp-method"], "tools/call");
    assert.equal(headers["mcp-name"], "echo-mcp-headers");
    assert.equal(headers["mcp-param-region"], "eu-west");
    assert.equal(headers["mcp-protocol-version"], "2026-07-28");
    const nullPriority = await proxy.post("/echo-mcp-headers", { region: "eu", priority: null });
    assert.equal(nullPriority.status, 200, "a null optional integer is taken as not given, not a 422");
    assert.equal((nullPriority.body as Json)["mcp-param-priority"], undefined, "and no header is sent for it");
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.ok(doc.paths["/echo-mcp-headers"]);
    assert.equal(doc.paths["/invalid-mcp-header"], undefined);
    assert.equal((await proxy.post("/invalid-mcp-header", { value: "x" })).status, 404);
    const warning = await proxy.waitForLog("the left-out tool", (line) => /invalid-mcp-header/.test(String(line.msg)));
    assert.match(String(warning.msg), /tool "invalid-mcp-header" was left out: invalid x-mcp-header annotation/);
    await proxy.stop();
  });

  it("listens for tools/list_changed (a 2026-07-28 server notifies only listeners), and serves the new tool", async () => {
    const proxy = await startProxy([], [...V2_STDIO["modern-only"]]);
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/late-tool", {})).status, 404);
    assert.equal((await proxy.post("/add-tool", { name: "late-tool" })).status, 200);
    const answer = await waitFor("the new route", async () => {
      const call = await proxy.post("/late-tool", {});
      return call.status === 200 ? call : undefined;
    });
    assert.match(String(answer.body), /late-tool/);
    await proxy.stop();
  });
});

describe("requests for input, with calls running side by side", () => {
  after(stopAll);

  it("ties a 2025 Streamable HTTP server's elicitation to its own call: 409 for it, 200 for the call beside it", async () => {
    const upstream = await startEverything("streamableHttp");
    const proxy = await startProxy(["--type", "streamable-http"], [upstream.url]);
    await waitForHealth(proxy, 200);
    const long = proxy.post("/trigger-long-running-operation", { duration: 2, steps: 2 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const asked = await proxy.post("/trigger-elicitation-request", {});
    assert.equal(asked.status, 409, JSON.stringify(asked.body));
    assert.equal((asked.body as Json).detail.code, "input_required");
    assert.match((asked.body as Json).detail.message, /required field \w+ has no default/);
    assert.equal((await long).status, 200, "the call beside it is not blamed");
    await proxy.stop();
  });
});
