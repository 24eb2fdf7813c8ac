import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client as V2Client, SSEClientTransport as V2SseTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport as V1SseTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "sse-secret-key";
const CLIENT_INFO = { name: "mcpo-ts-sse-test", version: "0" };
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: CLIENT_INFO },
};

interface SseEvent {
  event: string;
  data: string;
}

/** A legacy SSE stream read by hand: its status, its endpoint event, and the events after it. */
interface RawStream {
  status: number;
  contentType: string | null;
  /** The `endpoint` event's data: the path to POST messages to. */
  endpoint: string;
  /** Waits for the next `message` event whose JSON-RPC id is `id`. */
  answer(id: number): Promise<Record<string, unknown>>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  assert.equal(response.status, 200, `GET ${url}: ${response.status}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reading = (async () => {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        events.push({ event, data });
      }
    }
  })().catch(() => undefined); // aborted by close()
  void reading;
  const endpoint = await waitFor("the endpoint event", () => events.find((e) => e.event === "endpoint")?.data);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    endpoint,
    answer: (id) =>
      waitFor(`the answer to request ${id}`, () => {
        const hit = events
          .filter((e) => e.event === "message")
          .map((e) => JSON.parse(e.data) as Record<string, unknown>)
          .find((message) => message.id === id);
        return hit;
      }),
    close: () => controller.abort(),
  };
}

describe("legacy HTTP+SSE, single-server mode (a key, a root path), stdio server-everything", () => {
  let proxy: Proxy;
  const auth = { authorization: `Bearer ${KEY}` };
  before(async () => {
    proxy = await startProxy(["--api-key", KEY, "--root-path", "/base"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("GET /sse without the key is refused: 401, as the REST routes are", async () => {
    const answer = await proxy.get("/sse");
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get("www-authenticate"), "Bearer");
    assert.deepEqual(answer.body, {
      detail: {
        message: "Missing bearer token: send 'Authorization: Bearer <api key>'",
        code: "unauthorized",
        reason: "missing",
      },
    });
    const post = await proxy.post("/messages?sessionId=whatever", INITIALIZE);
    assert.equal(post.status, 401);
  });

  it("GET /sse with the key opens a stream whose endpoint event names the public path /base/messages", async () => {
    const stream = await openStream(`${proxy.url}/sse`, auth);
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.contentType, "text/event-stream");
      assert.match(stream.endpoint, /^\/base\/messages\?sessionId=[0-9a-f-]{36}$/);
      const posted = await proxy.post(stream.endpoint, INITIALIZE, auth);
      assert.equal(posted.status, 202);
      assert.equal(posted.text, "Accepted");
      const result = (await stream.answer(1)).result as Record<string, any>;
      assert.equal(result.protocolVersion, "2024-11-05");
      assert.equal(result.serverInfo.name, "mcp-servers/everything");
    } finally {
      stream.close();
    }
  });

  it("an unknown sessionId: 404 with a JSON-RPC error", async () => {
    const answer = await proxy.post("/messages?sessionId=00000000-0000-0000-0000-000000000000", INITIALIZE, auth);
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.body, {
      jsonrpc: "2.0",
      error: { code: -32001, message: "Session not found: open a new one with GET on the SSE path" },
      id: null,
    });
  });

  it("the v1 SDK client lists the tools, calls echo and gets progress", async () => {
    const client = new V1Client(CLIENT_INFO);
    await client.connect(new V1SseTransport(new URL(`${proxy.url}/base/sse`), { requestInit: { headers: auth } }));
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === "echo"));
      const echoed = await client.callTool({ name: "echo", arguments: { message: "over legacy SSE" } });
      assert.deepEqual(echoed.content, [{ type: "text", text: "Echo: over legacy SSE" }]);
      const progress: number[] = [];
      const long = await client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
        undefined,
        { onprogress: (update) => progress.push(update.progress) },
      );
      // The last step's progress may trail the result (seen 1 run in 5): the upstream's final notification and its
      // answer race on the way through the proxy, and a client drops progress that comes after the answer.
      assert.deepEqual(progress.slice(0, 2), [1, 2]);
      assert.match(JSON.stringify(long.content), /Long running operation completed/);
    } finally {
      await client.close();
    }
  });

  it("the v2 SDK client lists the tools and calls echo over its SSEClientTransport", async () => {
    const client = new V2Client(CLIENT_INFO);
    await client.connect(new V2SseTransport(new URL(`${proxy.url}/sse`), { authProvider: { token: async () => KEY } }));
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === "echo"));
      const echoed = await client.callTool({ name: "echo", arguments: { message: "v2 over SSE" } });
      assert.deepEqual(echoed.content, [{ type: "text", text: "Echo: v2 over SSE" }]);
    } finally {
      await client.close();
    }
  });
});

describe("legacy HTTP+SSE, config mode: /{server}/sse, the aggregated /sse, sessions bound to their caller", () => {
  let proxy: Proxy;
  before(async () => {
    const config = configFile({
      mcpServers: {
        ev: { command: EVERYTHING_STDIO[0], args: EVERYTHING_STDIO.slice(1) },
        fx: { command: FIXTURE_STDIO[0], args: FIXTURE_STDIO.slice(1) },
      },
    });
    proxy = await startProxy(
      ["--config", config.path, "--root-path", "/base", "--cors-allow-origins", "https://app.example"],
      [],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("GET /base/ev/sse names /base/ev/messages, and the v2 client follows it", async () => {
    const stream = await openStream(`${proxy.url}/base/ev/sse`);
    stream.close();
    assert.match(stream.endpoint, /^\/base\/ev\/messages\?sessionId=[0-9a-f-]{36}$/);
    const client = new V2Client(CLIENT_INFO);
    await client.connect(new V2SseTransport(new URL(`${proxy.url}/base/ev/sse`)));
    try {
      const echoed = await client.callTool({ name: "echo", arguments: { message: "mounted" } });
      assert.deepEqual(echoed.content, [{ type: "text", text: "Echo: mounted" }]);
    } finally {
      await client.close();
    }
  });

  it("the aggregated /sse at the root names /base/messages and serves {server}__{tool}", async () => {
    const stream = await openStream(`${proxy.url}/base/sse`);
    stream.close();
    assert.match(stream.endpoint, /^\/base\/messages\?sessionId=[0-9a-f-]{36}$/);
    const client = new V1Client(CLIENT_INFO);
    await client.connect(new V1SseTransport(new URL(`${proxy.url}/base/sse`)));
    try {
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name);
      assert.ok(names.includes("ev__echo") && names.includes("fx__sleep"), names.join(", "));
      const echoed = await client.callTool({ name: "ev__echo", arguments: { message: "aggregated" } });
      assert.deepEqual(echoed.content, [{ type: "text", text: "Echo: aggregated" }]);
    } finally {
      await client.close();
    }
  });

  it("a session opened by one caller is unknown to another (404); its own caller gets 202", async () => {
    const ada = { authorization: "Bearer ada" };
    const stream = await openStream(`${proxy.url}/ev/sse`, ada);
    try {
      const asBob = await proxy.post(stream.endpoint, INITIALIZE, { authorization: "Bearer bob" });
      assert.equal(asBob.status, 404);
      assert.equal((asBob.body as { error: { code: number } }).error.code, -32001);
      const anonymous = await proxy.post(stream.endpoint, INITIALIZE);
      assert.equal(anonymous.status, 404);
      const asAda = await proxy.post(stream.endpoint, INITIALIZE, ada);
      assert.equal(asAda.status, 202);
      assert.ok((await stream.answer(1)).result);
    } finally {
      stream.close();
    }
  });

  it("a page of another Origin can neither open a stream nor post to one: 403, as for tool calls", async () => {
    const stream = await openStream(`${proxy.url}/ev/sse`, { origin: "https://app.example" });
    try {
      const evil = { origin: "https://evil.example" };
      const opened = await proxy.get("/ev/sse", evil);
      assert.equal(opened.status, 403);
      assert.equal((opened.body as { detail: { code: string } }).detail.code, "origin_not_allowed");
      const posted = await proxy.post(stream.endpoint, INITIALIZE, evil);
      assert.equal(posted.status, 403);
      assert.equal((posted.body as { detail: { code: string } }).detail.code, "origin_not_allowed");
      assert.equal((await proxy.post(stream.endpoint, INITIALIZE, { origin: "https://app.example" })).status, 202);
    } finally {
      stream.close();
    }
  });

  it("a session's messages path takes POST only (405), and one JSON-RPC message (400)", async () => {
    const stream = await openStream(`${proxy.url}/ev/sse`);
    try {
      const answer = await proxy.get(stream.endpoint);
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get("allow"), "POST");
      const invalid = await proxy.post(stream.endpoint, { hello: "world" });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body, {
        jsonrpc: "2.0",
        error: { code: -32600, message: "Invalid Request: the body is not one JSON-RPC message" },
        id: null,
      });
    } finally {
      stream.close();
    }
  });

  it("a client that goes away cancels its calls: the upstream sees the cancellation, the session is gone", async () => {
    const stream = await openStream(`${proxy.url}/fx/sse`);
    assert.equal((await proxy.post(stream.endpoint, INITIALIZE)).status, 202);
    await stream.answer(1);
    await proxy.post(stream.endpoint, { jsonrpc: "2.0", method: "notifications/initialized" });
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "sleep", arguments: { ms: 30_000 } } };
    assert.equal((await proxy.post(stream.endpoint, call)).status, 202);
    await proxy.waitForLog("the call to start", (line) => String(line.msg).includes("fixture: sleep 30000 started"));
    stream.close();
    await proxy.waitForLog("the cancellation", (line) => String(line.msg).includes("fixture: sleep 30000 cancelled"));
    const after = await waitFor("the session to close", async () => {
      const answer = await proxy.post(stream.endpoint, { jsonrpc: "2.0", id: 3, method: "ping" });
      return answer.status === 404 ? answer : undefined;
    });
    assert.equal(after.status, 404);
  });
});
