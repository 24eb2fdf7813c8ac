/**
 * Every documented status, on both protocol eras: the same v2 fixture tools
 * reached as MCP 2026-07-28 (modern-only server, `auto`) and as 2025 (dual
 * server, `--protocol legacy`), over stdio and Streamable HTTP, through the
 * real CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";
import { DEFAULTS_FORM, REQUIRED_FORM, startV2Http, V2_STDIO, type V2EraMode } from "../fixtures/v2/index.js";

type Json = Record<string, any>;

interface Setup {
  name: string;
  era: "modern" | "legacy";
  transport: "stdio" | "streamable-http";
  mode: V2EraMode;
  options: string[];
}

const SETUPS: Setup[] = [
  { name: "2026-07-28 over stdio", era: "modern", transport: "stdio", mode: "modern-only", options: [] },
  {
    name: "2026-07-28 over Streamable HTTP",
    era: "modern",
    transport: "streamable-http",
    mode: "modern-only",
    options: [],
  },
  { name: "2025 over stdio", era: "legacy", transport: "stdio", mode: "dual", options: ["--protocol", "legacy"] },
  {
    name: "2025 over Streamable HTTP",
    era: "legacy",
    transport: "streamable-http",
    mode: "dual",
    options: ["--protocol", "legacy"],
  },
];

const FAST_RETRY = ["--retry-delay", "0.1", "--max-retry-delay", "0.5"];

for (const setup of SETUPS) {
  describe(`statuses on ${setup.name}`, () => {
    let proxy: Proxy;
    /** What the upstream wrote on stderr: through the proxy's log over stdio, from its own process over HTTP. */
    let upstreamStderr: () => string;

    before(async () => {
      const http = setup.transport === "stdio" ? undefined : await startV2Http({ era: setup.mode });
      const target = http ? [http.url] : [...V2_STDIO[setup.mode]];
      const type = setup.transport === "stdio" ? [] : ["--type", "streamable-http"];
      proxy = await startProxy([...type, ...FAST_RETRY, ...setup.options], target);
      upstreamStderr = http
        ? () => http.process.stderr()
        : () =>
            proxy
              .logs()
              .filter((line) => line.stream === "stderr")
              .map((line) => String(line.msg))
              .join("\n");
      await waitForHealth(proxy, 200);
    });

    after(async () => {
      await proxy?.stop();
      await stopAll();
    });

    it(`reports the era in /health (${setup.era})`, async () => {
      const { status, body } = await proxy.get("/health");
      assert.equal(status, 200);
      const details = (body as Json).details;
      assert.equal(details.era, setup.era);
      assert.equal(details.protocol_version, setup.era === "modern" ? "2026-07-28" : "2025-11-25");
      assert.equal((body as Json).message, "connection OK");
      // The log line travels on stderr, the answer on a socket: either may arrive first.
      const connected = await proxy.waitForLog("the connect", (line) => String(line.msg).startsWith("connected to"));
      assert.equal(connected.protocol_version, details.protocol_version, "the era is logged once connected");
    });

    it("200: a result", async () => {
      const { status, body } = await proxy.post("/echo", { message: "both eras" });
      assert.equal(status, 200);
      assert.equal(body, "Echo: both eras");
    });

    it("422: the upstream's own -32602, in its words", async () => {
      const { status, body } = await proxy.post("/throw", { code: -32602, message: "a must be positive" });
      assert.equal(status, 422);
      assert.deepEqual((body as Json).detail, [
        { loc: ["body"], msg: "a must be positive", type: "upstream_invalid_params" },
      ]);
    });

    it("500 and 502: an internal error and any other JSON-RPC error", async () => {
      const internal = await proxy.post("/throw", { code: -32603, message: "disk on fire" });
      assert.equal(internal.status, 500);
      assert.equal((internal.body as Json).detail.code, "upstream_error");
      assert.match((internal.body as Json).detail.message, /disk on fire/);
      const other = await proxy.post("/throw", { code: -31000, message: "custom" });
      assert.equal(other.status, 502);
      assert.match((other.body as Json).detail.message, /error -31000: custom/);
    });

    it("500 tool_error: isError, in the tool's words", async () => {
      const { status, body } = await proxy.post("/fail", {});
      assert.equal(status, 500);
      assert.deepEqual((body as Json).detail, { message: "the tool failed on purpose", code: "tool_error" });
    });

    it("504: past the tool timeout, and the call is cancelled upstream", async () => {
      const started = Date.now();
      const { status, body } = await proxy.post("/sleep", { ms: 5000 }, { "X-Tool-Timeout": "0.4" });
      assert.equal(status, 504);
      assert.equal((body as Json).detail.code, "upstream_timeout");
      assert.ok(Date.now() - started < 3000, "answered at the timeout, not when the tool ended");
      // 2026-07-28 HTTP cancels by closing the request's stream, the rest by notifications/cancelled. (A stateless
      // 2025 HTTP server gets the cancellation on a fresh instance that never ran the call: nothing to observe.)
      if (setup.era === "modern" || setup.transport === "stdio") {
        await waitFor(
          "the upstream to see the cancellation",
          () => upstreamStderr().includes("sleep 5000 cancelled"),
          4000,
        );
      }
    });

    it("200: progress keeps a call alive past the tool timeout", async () => {
      const slow = await startProxyOn(setup, ["--tool-timeout", "0.5"]);
      // 6 steps 200 ms apart: 1.2 s in all, more than twice the timeout, but never 0.5 s without news.
      const { status, body } = await slow.post("/progress", { steps: 6, intervalMs: 200 });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body, "progressed 6 steps");
      await slow.stop();
    });

    if (setup.era === "modern" || setup.transport === "stdio") {
      it("200: a form the policy can fill from its defaults is accepted with them", async () => {
        const { status, body } = await proxy.post("/elicit-defaults", {});
        assert.equal(status, 200);
        const defaults = Object.fromEntries(
          Object.entries(DEFAULTS_FORM.requestedSchema.properties).map(([key, field]) => [key, field.default]),
        );
        assert.deepEqual(body, { action: "accept", content: defaults });
      });

      it("409 input_required: a form with a required field without default, never a 200", async () => {
        const { status, body } = await proxy.post("/elicit-required", {});
        assert.equal(status, 409);
        const detail = (body as Json).detail;
        assert.equal(detail.code, "input_required");
        assert.equal(detail.input_message, REQUIRED_FORM.message);
        assert.match(detail.message, /declined \(required field \w+ has no default\)/);
      });

      it("409 input_required: a URL the user would have to open", async () => {
        const { status, body } = await proxy.post("/elicit-url", {});
        assert.equal(status, setup.era === "modern" ? 409 : 500, JSON.stringify(body));
        if (setup.era === "modern") assert.equal((body as Json).detail.code, "input_required");
      });
    } else {
      it("500 tool_error: a stateless 2025 HTTP server cannot ask for input at all, and says so", async () => {
        const { status, body } = await proxy.post("/elicit-defaults", {});
        assert.equal(status, 500);
        assert.match((body as Json).detail.message, /elicitation\/create/);
      });
    }

    if (setup.transport === "stdio") {
      it("503 for the call in flight when the server dies, then 200 once it is back, in the same era", async () => {
        const crash = await proxy.post("/crash", {});
        assert.equal(crash.status, 503);
        assert.match((crash.body as Json).detail.message, /may or may not have run/);
        const health = await waitForHealth(proxy, 200);
        assert.equal((health.body as Json).details.reconnect_count, 1);
        assert.equal((health.body as Json).details.era, setup.era);
        assert.equal((await proxy.post("/echo", { message: "back" })).status, 200);
      });
    }
  });
}

/** A second proxy on the same kind of upstream, with other options. */
async function startProxyOn(setup: Setup, options: string[]): Promise<Proxy> {
  const target =
    setup.transport === "stdio" ? [...V2_STDIO[setup.mode]] : [(await startV2Http({ era: setup.mode })).url];
  const type = setup.transport === "stdio" ? [] : ["--type", "streamable-http"];
  const proxy = await startProxy([...type, ...FAST_RETRY, ...setup.options, ...options], target);
  await waitForHealth(proxy, 200);
  return proxy;
}
