import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { connectClient } from "../helpers/mcp-clients.js";
import { freePort } from "../helpers/ports.js";
import { stopAll } from "../helpers/processes.js";
import { parsePrometheus, valueOf, type Sample } from "../helpers/prometheus.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const [everythingCommand, ...everythingArgs] = EVERYTHING_STDIO;
const [fixtureCommand, ...fixtureArgs] = FIXTURE_STDIO;
const SERVERS = {
  everything: { command: everythingCommand, args: everythingArgs },
  fixture: { command: fixtureCommand, args: fixtureArgs },
};

async function scrape(proxy: Proxy, headers: Record<string, string> = {}): Promise<Sample[]> {
  const answer = await proxy.get("/metrics", headers);
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(answer.text);
}

describe("GET /metrics", () => {
  after(stopAll);

  it("counts HTTP requests, REST and MCP tool calls by outcome, load, upstream state and era; a removed server's series go on hot reload", async () => {
    const config = configFile({ mcpServers: SERVERS });
    const proxy = await startProxy(["--config", config.path, "--hot-reload"], []);
    await waitForHealth(proxy, 200, 60_000);

    assert.equal((await proxy.post("/everything/echo", { message: "hello" })).status, 200);
    const failed = await proxy.post("/fixture/fail", {});
    assert.ok(failed.status >= 400, failed.text);
    assert.equal((await proxy.post("/everything/echo", { wrong: 1 })).status, 422);
    assert.equal((await proxy.get("/no-such-route")).status, 404);
    // A call over the MCP face is counted too.
    const client = await connectClient("v2 2025", `${proxy.url}/fixture/mcp`);
    await client.callTool("pid", {});
    await client.close();

    const samples = await scrape(proxy);
    const calls = (server: string, tool: string, outcome: string) =>
      valueOf(samples, "mcpo_tool_calls_total", { server, tool, outcome });
    assert.equal(calls("everything", "echo", "ok"), 1);
    assert.equal(calls("fixture", "fail", "tool_error"), 1);
    assert.equal(calls("everything", "echo", "bad_request"), 1);
    assert.equal(calls("fixture", "pid", "ok"), 1);
    const mcpCalls = samples
      .filter((sample) => sample.name === "mcpo_tool_calls_total" && sample.labels.server === "fixture")
      .reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(mcpCalls, 2, "the REST call and the MCP call of server fixture");
    assert.equal(valueOf(samples, "mcpo_http_requests_total", { route: "tool", method: "POST", status: "200" }), 1);
    assert.equal(valueOf(samples, "mcpo_http_requests_total", { route: "tool", method: "POST", status: "422" }), 1);
    assert.equal(valueOf(samples, "mcpo_http_requests_total", { route: "other", method: "GET", status: "404" }), 1);
    assert.ok((valueOf(samples, "mcpo_http_requests_total", { route: "mcp", method: "POST" }) ?? 0) >= 1);
    assert.ok((valueOf(samples, "mcpo_http_requests_total", { route: "health", method: "GET" }) ?? 0) >= 1);
    assert.equal(valueOf(samples, "mcpo_http_request_duration_seconds_count", { route: "tool" }), 3);
    // The latency histogram reaches 300 s.
    assert.equal(
      valueOf(samples, "mcpo_tool_call_duration_seconds_bucket", { server: "everything", tool: "echo", le: "300" }),
      1,
    );
    for (const server of ["everything", "fixture"]) {
      assert.equal(valueOf(samples, "mcpo_upstream_up", { server }), 1);
      assert.equal(valueOf(samples, "mcpo_upstream_state", { server, state: "ready" }), 1);
      assert.equal(valueOf(samples, "mcpo_upstream_state", { server, state: "connecting" }), undefined);
      assert.equal(valueOf(samples, "mcpo_upstream_era", { server, era: "legacy" }), 1);
      assert.equal(valueOf(samples, "mcpo_calls_in_flight", { server }), 0);
      assert.equal(valueOf(samples, "mcpo_calls_queued", { server }), 0);
    }
    assert.ok(valueOf(samples, "mcpo_process_cpu_user_seconds_total") !== undefined, "default process metrics");
    // Labels never carry arguments.
    assert.ok(!JSON.stringify(samples).includes("hello"));
    // Never a tool: not in the OpenAPI document.
    const paths = Object.keys(((await proxy.get("/openapi.json")).body as Json).paths);
    assert.ok(!paths.some((path) => path.includes("metrics")), paths.join(", "));

    config.write({ mcpServers: { everything: SERVERS.everything } });
    await waitFor("the reload", () => proxy.logs().some((line) => line.msg === "config reloaded"));
    const after = await scrape(proxy);
    assert.deepEqual(
      after.filter((sample) => sample.labels.server === "fixture").map((sample) => sample.name),
      [],
    );
    assert.equal(valueOf(after, "mcpo_tool_calls_total", { server: "everything", tool: "echo", outcome: "ok" }), 1);
    assert.equal(valueOf(after, "mcpo_config_reloads_total", { outcome: "applied" }), 1);
  });

  it("needs the key with --strict-auth, as /health does; not without it", async () => {
    const strict = await startProxy(["--api-key", "k-metrics", "--strict-auth"], EVERYTHING_STDIO);
    const refused = await strict.get("/metrics");
    assert.equal(refused.status, 401);
    assert.equal((await strict.get("/health")).status, 401);
    assert.ok(!refused.text.includes("mcpo_"));
    await scrape(strict, { authorization: "Bearer k-metrics" });

    const keyed = await startProxy(["--api-key", "k-metrics"], EVERYTHING_STDIO);
    await scrape(keyed);
  });

  it("--metrics-port serves it on its own port, and the main port answers 404", async () => {
    const port = await freePort();
    const proxy = await startProxy(["--metrics-port", String(port)], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200, 60_000);
    assert.equal((await proxy.post("/echo", { message: "x" })).status, 200);
    assert.equal((await proxy.get("/metrics")).status, 404);
    const answer = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(answer.status, 200);
    assert.ok(answer.headers.get("x-request-id"));
    const samples = parsePrometheus(await answer.text());
    // Single-server mode: the server is labelled `default` (never a command path or a URL).
    assert.equal(valueOf(samples, "mcpo_tool_calls_total", { server: "default", tool: "echo", outcome: "ok" }), 1);
    assert.equal((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status, 404);
  });

  it("--no-metrics: /metrics is 404", async () => {
    const proxy = await startProxy(["--no-metrics"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200, 60_000); // (before its tool list, any name could be a tool: 405 for GET)
    const answer = await proxy.get("/metrics");
    assert.equal(answer.status, 404);
    assert.ok(!answer.text.includes("mcpo_"));
  });
});
