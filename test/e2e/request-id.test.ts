import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = "key-of-the-request-id-test";

describe("X-Request-Id and the access log", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(["--api-key", KEY, "--access-log"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200, 60_000);
  });
  after(stopAll);
  const auth = { authorization: `Bearer ${KEY}` };

  it("echoes a valid X-Request-Id on the answer", async () => {
    const answer = await proxy.post("/echo", { message: "hi" }, { ...auth, "x-request-id": "gw-1.2:3_x-Y" });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("x-request-id"), "gw-1.2:3_x-Y");
  });

  it("replaces an invalid one (too long, spaces, other characters) by a new UUID, and gives one when none is sent", async () => {
    for (const sent of ["a".repeat(129), "has space", "semi;colon", "é"]) {
      const answer = await proxy.post("/echo", { message: "hi" }, { ...auth, "x-request-id": sent });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get("x-request-id") ?? "", UUID, sent);
    }
    assert.equal(
      (await proxy.post("/echo", { message: "hi" }, { ...auth, "x-request-id": "a".repeat(128) })).headers.get(
        "x-request-id",
      ),
      "a".repeat(128),
    );
    const first = (await proxy.post("/echo", { message: "hi" }, auth)).headers.get("x-request-id");
    const second = (await proxy.post("/echo", { message: "hi" }, auth)).headers.get("x-request-id");
    assert.match(first ?? "", UUID);
    assert.notEqual(first, second);
  });

  it("is on every answer: 401, 404, 405, 422, a preflight, the MCP endpoint", async () => {
    const answers = {
      401: await proxy.post("/echo", { message: "hi" }, { "x-request-id": "r401" }),
      404: await proxy.post("/no-such-tool", {}, { ...auth, "x-request-id": "r404" }),
      405: await proxy.get("/echo", { ...auth, "x-request-id": "r405" }),
      422: await proxy.post("/echo", { wrong: 1 }, { ...auth, "x-request-id": "r422" }),
    };
    for (const [status, answer] of Object.entries(answers)) {
      assert.equal(answer.status, Number(status));
      assert.equal(answer.headers.get("x-request-id"), `r${status}`);
    }
    const preflight = await fetch(`${proxy.url}/echo`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST", "x-request-id": "pre" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("x-request-id"), "pre");
    const mcp = await fetch(`${proxy.url}/mcp`, {
      method: "POST",
      headers: {
        ...auth,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "x-request-id": "mcp-1",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
      }),
    });
    await mcp.body?.cancel();
    assert.equal(mcp.status, 200);
    assert.equal(mcp.headers.get("x-request-id"), "mcp-1");
  });

  it("writes one access-log line per request with its fields, never the arguments, the query or the key", async () => {
    const answer = await proxy.post(
      "/echo?token=query-secret",
      { message: "argument-secret" },
      { ...auth, "x-request-id": "log-1" },
    );
    assert.equal(answer.status, 200);
    const line = await proxy.waitForLog("the access-log line", (entry) => entry.req_id === "log-1");
    const { time, ...fields } = line;
    assert.ok(typeof time === "string");
    assert.ok(typeof fields.duration_ms === "number" && fields.duration_ms >= 0);
    assert.ok(typeof fields.bytes === "number" && fields.bytes > 0);
    assert.deepEqual(
      { ...fields, duration_ms: 0, bytes: 0 },
      {
        level: "info",
        name: "mcpo",
        msg: "request",
        req_id: "log-1",
        method: "POST",
        route: "tool",
        path: "/echo",
        tool: "echo",
        status: 200,
        duration_ms: 0,
        bytes: 0,
      },
    );
    const all = proxy.process.stderr();
    for (const secret of ["argument-secret", "query-secret", KEY]) assert.ok(!all.includes(secret), secret);
    assert.equal(proxy.logs().filter((entry) => entry.req_id === "log-1").length, 1);
  });

  it("puts req_id on the request's error log line", async () => {
    // A 404 is logged at debug: a 5xx is not easy to provoke; the key refusal with an unknown server is not logged.
    // So the check runs on a proxy at debug level.
    const debug = await startProxy(["--log-level", "debug", "--access-log"], EVERYTHING_STDIO);
    await waitForHealth(debug, 200, 60_000);
    await debug.post("/no-such-tool", {}, { "x-request-id": "err-1" });
    const lines = await waitFor("both lines", () => {
      const found = debug.logs().filter((entry) => entry.req_id === "err-1");
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(
      lines.map((entry) => (String(entry.msg).startsWith("No tool named") ? "refusal" : entry.msg)).sort(),
      ["refusal", "request"],
    );
  });

  it("writes none without --access-log (the default)", async () => {
    const quiet = await startProxy([], EVERYTHING_STDIO);
    await waitForHealth(quiet, 200, 60_000);
    const answer = await quiet.post("/echo", { message: "hi" }, { "x-request-id": "quiet-1" });
    assert.equal(answer.headers.get("x-request-id"), "quiet-1");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(quiet.logs().filter((entry) => entry.msg === "request").length, 0);
  });
});
