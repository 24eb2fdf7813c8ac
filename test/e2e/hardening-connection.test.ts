/**
 * Issue 10, the connection's part: recovery that never stops, an upstream's own errors never taken for local ones,
 * one failed call never failing the others, broken streams and unreadable answers reported at once, calls that
 * wait for a reconnect, malformed tools kept apart, bursts of list changes coalesced, the queue inside the tool
 * timeout, and messages that name the server. Each runs the real CLI against test/fixtures/faulty.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FAULTY_STDIO, startFaultyHttp } from "../fixtures/faulty/index.js";
import { configFile } from "../helpers/config-file.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Answer, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "5"];

function detail(answer: Answer): Json {
  return (answer.body as Json).detail as Json;
}

/** Starts something whose children inherit `env` (the proxy passes its environment on to stdio servers). */
async function withEnv<T>(env: Record<string, string>, start: () => Promise<T>): Promise<T> {
  Object.assign(process.env, env);
  try {
    return await start();
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

async function health(proxy: Proxy): Promise<Json> {
  return (await proxy.get("/health")).body as Json;
}

describe("hardening: the connection", () => {
  after(stopAll);

  it("keeps reconnecting after an attempt throws a TypeError (an SSE endpoint event that is not a URL)", async () => {
    const upstream = await startFaultyHttp("sse", { FAULTY_BAD_ENDPOINTS: "2" });
    const proxy = await startProxy(["--type", "sse", ...FAST], [upstream.url]);
    await waitForHealth(proxy, 200);
    const answer = await proxy.post("/echo", { after: "bad endpoints" });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { after: "bad endpoints" });
    assert.equal(upstream.process.stderr().split("faulty: sent a bad endpoint").length - 1, 2);
    await proxy.stop();
    await upstream.stop();
  });

  it("with --retry-delay 0, a server that cannot be spawned leaves the event loop free (HTTP, logs, SIGTERM)", async () => {
    const proxy = await startProxy(["--retry-delay", "0", "--max-retry-delay", "0"], ["/nonexistent/mcp-server"]);
    const started = Date.now();
    const answer = await proxy.get("/health");
    assert.equal(answer.status, 503);
    assert.match((answer.body as Json).details.last_error, /ENOENT|not found|unreachable/i);
    assert.ok(Date.now() - started < 5000, `health answered in ${Date.now() - started} ms`);
    const attempts = proxy
      .logs()
      .filter((line) => line.msg === "connection attempt to stdio-/nonexistent/mcp-server failed");
    assert.ok(attempts.length > 0, "attempts are logged");
    assert.equal(await proxy.stop("SIGTERM"), 0);
  });

  for (const code of [-32000, -32001]) {
    it(`passes a tool's own JSON-RPC error ${code} on as 502 upstream_error, without restarting the server`, async () => {
      const proxy = await startProxy(FAST, FAULTY_STDIO);
      await waitForHealth(proxy, 200);
      const slow = proxy.post("/sleep", { ms: 1500 });
      const answer = await proxy.post("/error", { code, message: `the tool's own ${code}` });
      assert.equal(answer.status, 502, answer.text);
      assert.equal(detail(answer).code, "upstream_error");
      assert.match(detail(answer).message, new RegExp(`error ${code}: the tool's own ${code}`));
      const other = await slow;
      assert.equal(other.status, 200, `the call in flight is unaffected: ${other.text}`);
      const details = (await health(proxy)).details as Json;
      assert.equal(details.state, "ready");
      assert.equal(details.reconnect_count, 0, "the stdio server was not restarted");
      await proxy.stop();
    });
  }

  for (const [mode, status] of [
    ["stateful", 500],
    ["stateful", 400],
    ["stateful", 413],
    ["sse", 500],
  ] as const) {
    it(`fails only the call that got HTTP ${status} from a ${mode === "sse" ? "legacy SSE" : "Streamable HTTP"} upstream (502); the others go on`, async () => {
      const upstream = await startFaultyHttp(mode);
      const proxy = await startProxy(["--type", mode === "sse" ? "sse" : "streamable-http", ...FAST], [upstream.url]);
      await waitForHealth(proxy, 200);
      const slow = proxy.post("/sleep", { ms: 1500 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const answer = await proxy.post("/http-status", { status });
      assert.equal(answer.status, 502, answer.text);
      assert.equal(detail(answer).code, "upstream_error");
      assert.match(detail(answer).message, new RegExp(`HTTP ${status}`));
      assert.match(detail(answer).message, /on purpose/);
      const other = await slow;
      assert.equal(other.status, 200, `the call in flight is unaffected: ${other.text}`);
      assert.deepEqual(other.body, { slept: 1500 });
      const details = (await health(proxy)).details as Json;
      assert.equal(details.reconnect_count, 0, "the session was kept");
      await proxy.stop();
      await upstream.stop();
    });
  }

  it("fails a call at once (503) when a Streamable HTTP upstream dies during it, and reconnects", async () => {
    const upstream = await startFaultyHttp("stateful");
    const proxy = await startProxy(["--type", "streamable-http", ...FAST], [upstream.url]);
    await waitForHealth(proxy, 200);
    const started = Date.now();
    const answer = await proxy.post("/die", { after_ms: 200 });
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 503, answer.text);
    assert.equal(detail(answer).code, "upstream_unavailable");
    assert.match(detail(answer).message, /may or may not have run/);
    assert.ok(elapsed < 5000, `answered after ${elapsed} ms`);
    await waitFor("reconnecting", async () => (await health(proxy)).details.state !== "ready");
    await proxy.stop();
  });

  for (const transport of ["stdio", "streamable-http"] as const) {
    for (const [tool, shape] of [
      ["null-result", "null"],
      ["number-result", "42"],
    ] as const) {
      it(`answers a result the proxy cannot read (${shape}, ${transport}) at once with 502, and logs it at warn`, async () => {
        const upstream = transport === "stdio" ? undefined : await startFaultyHttp("stateful");
        const proxy = upstream
          ? await startProxy(["--type", "streamable-http", "--tool-timeout", "20", ...FAST], [upstream.url])
          : await startProxy(["--tool-timeout", "20", ...FAST], FAULTY_STDIO);
        await waitForHealth(proxy, 200);
        const started = Date.now();
        const answer = await proxy.post(`/${tool}`, {});
        assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
        assert.equal(answer.status, 502, answer.text);
        assert.equal(detail(answer).code, "upstream_error");
        assert.match(detail(answer).message, new RegExp(`answer to tool "${tool}" that the proxy cannot read`));
        await proxy.waitForLog(
          "the unreadable answer at warn",
          (line) => line.level === "warn" && /cannot read/.test(String(line.msg)),
        );
        assert.equal((await proxy.post("/echo", { still: "there" })).status, 200);
        await proxy.stop();
        await upstream?.stop();
      });
    }
  }

  it("lets calls that arrive while the connection is re-established wait for it (200), not 503 at once", async () => {
    // They wait up to connection_timeout (and their tool timeout): generous here, a loaded machine starts slowly.
    const proxy = await startProxy([...FAST, "--connection-timeout", "30"], FAULTY_STDIO);
    await waitForHealth(proxy, 200);
    const died = await proxy.post("/die", { after_ms: 0 });
    assert.equal(died.status, 503, died.text);
    const answers = await Promise.all([1, 2, 3].map((i) => proxy.post("/echo", { i })));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200],
      answers.map((answer) => answer.text).join("\n"),
    );
    assert.deepEqual(answers[2]!.body, { i: 3 });
    await proxy.stop();
  });

  it("keeps a server's good tools when one is malformed, serves that one sanitized, skips a nameless one", async () => {
    const config = configFile({
      mcpServers: {
        faulty: { command: FAULTY_STDIO[0], args: FAULTY_STDIO.slice(1), env: { FAULTY_BAD_TOOLS: "1" } },
      },
      connection_settings: { retry_delay: 0.05, max_retry_delay: 0.2 },
    });
    const multi = await startProxy(["--config", config.path], []);
    await waitForHealth(multi, 200);
    assert.equal((await multi.post("/faulty/echo", { good: "tool" })).status, 200);
    const doc = (await multi.get("/faulty/openapi.json")).body as Json;
    assert.ok(doc.paths["/echo"], "the good tools are served");
    assert.ok(doc.paths["/bad-description"], "the malformed tool is served, sanitized");
    assert.equal(doc.paths["/"], undefined, "the nameless tool is not documented");
    assert.equal((await multi.post("/faulty/bad-description", {})).status, 404, "the fixture does not run it");
    const details = (((await health(multi)).servers as Json).faulty as Json).details as Json;
    assert.deepEqual(
      (details.skipped_tools as Json[]).map((entry) => entry.name),
      [""],
    );
    assert.match(String((details.skipped_tools as Json[])[0]!.reason), /no name/);
    await multi.waitForLog("the malformed tool's warning", (line) => /tool "bad-description"/.test(String(line.msg)));
    await multi.stop();
  });

  it("coalesces a burst of 1,000 tools/list_changed from a server with 2,000 tools", async () => {
    const proxy = await withEnv({ FAULTY_EXTRA_TOOLS: "2000" }, () => startProxy(FAST, FAULTY_STDIO));
    await waitForHealth(proxy, 200);
    const before = ((await proxy.post("/list-count", {})).body as Json).listed as number;
    const burst = await proxy.post("/burst", { count: 1000 });
    assert.equal(burst.status, 200, burst.text);
    const started = Date.now();
    assert.equal((await proxy.get("/health")).status, 200);
    assert.ok(Date.now() - started < 3000, `health answered in ${Date.now() - started} ms during the burst`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const listed = ((await proxy.post("/list-count", {})).body as Json).listed as number;
    assert.ok(listed - before <= 3, `${listed - before} tools/list requests for 1,000 notifications`);
    const reloads = proxy.logs().filter((line) => String(line.msg).startsWith("tool list changed upstream"));
    assert.ok(reloads.length <= 3, `${reloads.length} log lines`);
    await proxy.stop();
  });

  it("counts time in the queue against the tool timeout: a queued call past it gets 504 and never runs", async () => {
    const proxy = await startProxy(["--max-concurrency", "1", ...FAST], FAULTY_STDIO);
    await waitForHealth(proxy, 200);
    const first = proxy.post("/sleep", { ms: 2500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const queued = await proxy.post("/echo", { queued: true }, { "X-Tool-Timeout": "1" });
    const elapsed = Date.now() - started;
    assert.equal(queued.status, 504, queued.text);
    assert.equal(detail(queued).code, "upstream_timeout");
    assert.match(detail(queued).message, /queue/);
    assert.ok(elapsed < 2000, `answered after ${elapsed} ms`);
    assert.equal((await first).status, 200);
    await proxy.stop();
  });

  it("names the server in config mode, and shows a stdio server's exit code during initialize", async () => {
    const config = configFile({
      mcpServers: {
        time: { command: process.execPath, args: ["-e", "process.exit(3)"] },
      },
      connection_settings: { retry_delay: 0.05, max_retry_delay: 0.2 },
    });
    const proxy = await startProxy(["--config", config.path], []);
    const details = await waitFor("a failed attempt", async () => {
      const server = ((await health(proxy)).servers as Json).time as Json;
      return server.details.last_error ? (server.details as Json) : undefined;
    });
    assert.match(details.last_error, /upstream "time" \(stdio-/);
    assert.match(details.last_error, /exited with code 3/);
    const call = await proxy.post("/time/anything", {});
    assert.ok(call.status === 503 || call.status === 404, call.text);
    await proxy.stop();
  });
});
