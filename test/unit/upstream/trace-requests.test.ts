import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client, InMemoryTransport, type JSONRPCMessage } from "@modelcontextprotocol/client";
import { context, propagation, type Span } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { traceRequests } from "../../../src/upstream/trace-requests.js";

/** A real SDK with an in-memory exporter, registered as tracing.ts's own setup would be. */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const tracer = provider.getTracer("test");
after(() => provider.shutdown());

/** Every `_meta` the peer received, by tool name. */
const received = new Map<string, Record<string, unknown> | undefined>();

/**
 * A real SDK client on the in-memory pair, against a peer that answers: tools/call "ok" (result), "fail" (isError),
 * "hang" (never); prompts/get with a JSON-RPC error.
 */
async function connected(): Promise<{ client: Client; clientSide: InMemoryTransport }> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const send = (message: Record<string, unknown>): void => {
    void serverSide.send({ jsonrpc: "2.0", ...message } as JSONRPCMessage);
  };
  serverSide.onmessage = (message) => {
    if (!("method" in message) || !("id" in message)) return;
    const params = (message.params ?? {}) as { name?: string; _meta?: Record<string, unknown> } & Record<string, any>;
    if (message.method === "initialize") {
      send({
        id: message.id,
        result: {
          protocolVersion: params.protocolVersion,
          capabilities: { tools: {}, prompts: {} },
          serverInfo: { name: "peer", version: "1" },
        },
      });
    } else if (message.method === "tools/call") {
      received.set(params.name!, params._meta);
      if (params.name === "hang") return;
      send({ id: message.id, result: { content: [], ...(params.name === "fail" ? { isError: true } : {}) } });
    } else if (message.method === "prompts/get") {
      send({ id: message.id, error: { code: -32602, message: "no such prompt" } });
    }
  };
  await serverSide.start();
  const client = new Client({ name: "test", version: "1" });
  await client.connect(clientSide);
  traceRequests(tracer, clientSide, { server: "peer", networkTransport: "pipe", protocolVersion: "2025-11-25" });
  return { client, clientSide };
}

/** Runs `work` inside an active parent span, as the HTTP request's SERVER span would be. */
async function inParent<T>(work: (parent: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan("parent", async (parent) => {
    try {
      return await work(parent);
    } finally {
      parent.end();
    }
  });
}

/** Waits (turns of the event loop, no timer) until the peer has received tools/call `name`; forgets it then. */
async function untilReceived(name: string): Promise<void> {
  while (!received.has(name)) await new Promise((resolve) => setImmediate(resolve));
  received.delete(name);
}

function spanNamed(name: string) {
  const span = exporter.getFinishedSpans().find((each) => each.name === name);
  assert.ok(span, `a finished span "${name}"`);
  return span;
}

describe("traceRequests", () => {
  it("makes a CLIENT span below the active span, with the MCP attributes, and sends its traceparent in _meta beside the SDK's keys", async () => {
    exporter.reset();
    const { client } = await connected();
    const parent = await inParent(async (parent) => {
      await client.callTool({ name: "ok", arguments: {} }, { onprogress: () => undefined });
      return parent;
    });
    const span = spanNamed("tools/call ok");
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(span.kind, 2 /* CLIENT */);
    assert.deepEqual(
      { ...span.attributes, "jsonrpc.request.id": typeof span.attributes["jsonrpc.request.id"] },
      {
        "mcp.method.name": "tools/call",
        "jsonrpc.request.id": "string",
        "mcpo.server": "peer",
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "pipe",
        "gen_ai.tool.name": "ok",
        "gen_ai.operation.name": "execute_tool",
      },
    );
    const meta = received.get("ok")!;
    assert.equal(meta.traceparent, `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    assert.notEqual(meta.progressToken, undefined, "the SDK's own _meta key is kept");
    await client.close();
  });

  it("makes no span and sends no trace context for a request outside any span", async () => {
    exporter.reset();
    const { client } = await connected();
    await client.callTool({ name: "ok", arguments: {} });
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(received.get("ok")?.traceparent, undefined);
    await client.close();
  });

  it("marks a tool's own error tool_error and a JSON-RPC error by its code", async () => {
    exporter.reset();
    const { client } = await connected();
    await inParent(async () => {
      await client.callTool({ name: "fail", arguments: {} });
      await client.getPrompt({ name: "missing" }).catch(() => undefined);
    });
    assert.equal(spanNamed("tools/call fail").attributes["error.type"], "tool_error");
    assert.equal(spanNamed("tools/call fail").status.code, 2 /* ERROR */);
    const prompt = spanNamed("prompts/get missing");
    assert.equal(prompt.attributes["error.type"], "-32602");
    assert.equal(prompt.attributes["gen_ai.prompt.name"], "missing");
    assert.equal(prompt.status.message, "no such prompt");
    await client.close();
  });

  it("ends the span of a request the caller gave up on (cancelled) and of one the closing connection cut off", async () => {
    exporter.reset();
    const { client } = await connected();
    await inParent(async () => {
      const controller = new AbortController();
      const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal });
      await untilReceived("hang");
      controller.abort();
      await call.catch(() => undefined);
    });
    assert.equal(spanNamed("tools/call hang").attributes["error.type"], "cancelled");

    exporter.reset();
    await inParent(async () => {
      const call = client.callTool({ name: "hang", arguments: {} });
      await untilReceived("hang");
      await client.close();
      await call.catch(() => undefined);
    });
    assert.equal(spanNamed("tools/call hang").attributes["error.type"], "connection_closed");
  });
});
