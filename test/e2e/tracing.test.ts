import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connectClient } from "../helpers/mcp-clients.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

/**
 * docs/OPERATIONS.md, Tracing: with the standard OTEL_* environment, a tool call is traced as an HTTP SERVER span and
 * an MCP CLIENT span below it, in the caller's trace (W3C traceparent), exported over OTLP (http/json here, to a
 * real receiver in this test); the upstream gets the client span's trace context in `params._meta`. Without that
 * environment nothing is traced and the SDK is not loaded.
 */

const META_ECHO = [
  process.execPath,
  "--import",
  "tsx",
  fileURLToPath(new URL("../fixtures/meta-echo-server.ts", import.meta.url)),
];

const OTEL_PRELOAD = fileURLToPath(new URL("../fixtures/otel-preload.mjs", import.meta.url));

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID = "00f067aa0ba902b7";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code?: number };
  attributes: Record<string, unknown>;
}

/** A tiny OTLP/HTTP receiver (JSON encoding): every span of every export it got. */
class Receiver {
  readonly spans: ExportedSpan[] = [];
  requests = 0;
  readonly #server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      this.requests++;
      if (req.url === "/v1/traces") this.#collect(JSON.parse(body) as OtlpExport);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #collect(body: OtlpExport): void {
    for (const resource of body.resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const attributes = Object.fromEntries(
            (span.attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]),
          );
          this.spans.push({ ...span, attributes });
        }
      }
    }
  }
}

interface OtlpExport {
  resourceSpans?: {
    scopeSpans?: {
      spans?: (Omit<ExportedSpan, "attributes"> & { attributes?: { key: string; value: object }[] })[];
    }[];
  }[];
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;

/** Starts the proxy with `env` added to its environment (the helper passes on this process's). */
async function startProxyWithEnv(env: Record<string, string>, target: string[]): Promise<Proxy> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await startProxy(["--log-level", "debug"], target);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe("tracing with the OTEL_* environment (OTLP http/json)", () => {
  const receiver = new Receiver();
  let proxy: Proxy;

  before(async () => {
    const endpoint = await receiver.start();
    proxy = await startProxyWithEnv(
      {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: "50",
        OTEL_SERVICE_NAME: "mcpo-under-test",
      },
      META_ECHO,
    );
    await waitForHealth(proxy, 200);
  });

  after(async () => {
    await proxy?.stop();
    await receiver.stop();
  });

  it("logs that tracing is enabled, naming the exporter", async () => {
    const line = await proxy.waitForLog("tracing enabled", (entry) => entry.msg === "tracing enabled");
    assert.deepEqual(line.exporters, ["otlp (http/json)"]);
  });

  it("a tool call makes a SERVER span in the caller's trace and a CLIENT span below it, and the upstream gets its traceparent in _meta", async () => {
    const answer = await proxy.post(
      "/meta",
      {},
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, "x-request-id": "traced-1" },
    );
    assert.equal(answer.status, 200);
    const meta = answer.body as Record<string, unknown>;

    const server = await waitFor("the server span", () =>
      receiver.spans.find((span) => span.kind === SPAN_KIND_SERVER && span.attributes["url.path"] === "/meta"),
    );
    const client = await waitFor("the client span", () =>
      receiver.spans.find((span) => span.kind === SPAN_KIND_CLIENT && span.parentSpanId === server.spanId),
    );

    assert.equal(server.traceId, TRACE_ID);
    assert.equal(server.parentSpanId, CALLER_SPAN_ID);
    assert.equal(server.name, "POST /{tool}");
    assert.equal(server.attributes["http.request.method"], "POST");
    assert.equal(server.attributes["http.route"], "/{tool}");
    // The request id of the log lines, so a log line leads to its trace.
    assert.equal(server.attributes["mcpo.request_id"], "traced-1");
    assert.equal(server.attributes["http.response.status_code"], 200);
    assert.notEqual(server.status.code, STATUS_ERROR);

    assert.equal(client.traceId, TRACE_ID);
    assert.equal(client.name, "tools/call meta");
    assert.equal(client.attributes["mcp.method.name"], "tools/call");
    assert.equal(client.attributes["gen_ai.tool.name"], "meta");
    assert.equal(client.attributes["gen_ai.operation.name"], "execute_tool");
    assert.equal(client.attributes["mcpo.server"], "");
    assert.equal(client.attributes["network.transport"], "pipe");
    assert.match(String(client.attributes["mcp.protocol.version"]), /^\d{4}-\d{2}-\d{2}$/);

    // The upstream saw the client span as its parent (and the SDK's own _meta keys are kept).
    assert.equal(meta.traceparent, `00-${TRACE_ID}-${client.spanId}-01`);
    assert.notEqual(meta.progressToken, undefined);
  });

  it("the query string stays out of url.path", async () => {
    const metaSpans = (): ExportedSpan[] =>
      receiver.spans.filter((span) => span.kind === SPAN_KIND_SERVER && span.attributes["url.path"] === "/meta");
    const before = metaSpans().length;
    await proxy.post("/meta?secret=1", {});
    await waitFor("the server span", () => metaSpans().length > before);
    assert.ok(receiver.spans.every((span) => !String(span.attributes["url.path"] ?? "").includes("secret")));
  });

  it("a tool's own error (isError) marks its client span tool_error", async () => {
    await proxy.post("/fail", {});
    const client = await waitFor("the client span of fail", () =>
      receiver.spans.find((span) => span.kind === SPAN_KIND_CLIENT && span.name === "tools/call fail"),
    );
    assert.equal(client.attributes["error.type"], "tool_error");
    assert.equal(client.status.code, STATUS_ERROR);
  });

  it("a tool call through the MCP endpoint gets the same client span, below the POST /mcp span", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const client = await connectClient("v2 2025", `${proxy.url}/mcp`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    try {
      const result = (await client.callTool("meta", {})) as { content: { text: string }[] };
      const meta = JSON.parse(result.content[0]!.text) as Record<string, unknown>;
      const [, sentTraceId, spanId] = String(meta.traceparent).split("-");
      assert.equal(sentTraceId, traceId);
      const span = await waitFor("the client span", () => receiver.spans.find((each) => each.spanId === spanId));
      assert.equal(span.kind, SPAN_KIND_CLIENT);
      assert.equal(span.name, "tools/call meta");
      const server = await waitFor("its server span", () =>
        receiver.spans.find((each) => each.spanId === span.parentSpanId),
      );
      assert.equal(server.name, "POST /mcp");
      assert.equal(server.attributes["http.route"], "/mcp");
    } finally {
      await client.close();
    }
  });

  it("a call without traceparent starts a trace of its own", async () => {
    const answer = await proxy.post("/meta", {});
    const meta = answer.body as Record<string, unknown>;
    const [, traceId, spanId] = String(meta.traceparent).split("-");
    assert.notEqual(traceId, TRACE_ID);
    const client = await waitFor("the client span", () => receiver.spans.find((span) => span.spanId === spanId));
    const server = receiver.spans.find((span) => span.spanId === client.parentSpanId);
    assert.ok(server, "the client span's parent is exported");
    assert.equal(server.parentSpanId ?? "", "");
  });
});

describe("tracing without the OTEL_* environment", () => {
  let proxy: Proxy;
  const saved = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith("OTEL_")));

  before(async () => {
    for (const key of Object.keys(saved)) delete process.env[key];
    proxy = await startProxy(["--log-level", "debug"], META_ECHO);
    await waitForHealth(proxy, 200);
  });

  after(async () => {
    await proxy?.stop();
    Object.assign(process.env, saved);
  });

  it("passes no trace context upstream and never loads the SDK", async () => {
    const answer = await proxy.post(
      "/meta",
      {},
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, "x-request-id": "traced-1" },
    );
    assert.equal(answer.status, 200);
    const meta = answer.body as Record<string, unknown>;
    assert.equal(meta.traceparent, undefined);
    assert.equal(meta.tracestate, undefined);
    // "tracing enabled" is logged (at debug) right after the SDK is loaded; it never is here.
    assert.ok(!proxy.logs().some((entry) => String(entry.msg).startsWith("tracing enabled")));
  });
});

describe("tracing with a tracer provider of the user's own (node --import)", () => {
  let proxy: Proxy;

  before(async () => {
    // NODE_OPTIONS, as a container image would set it (a stdio fixture that inherits it only registers a provider).
    proxy = await startProxyWithEnv({ NODE_OPTIONS: `--import ${OTEL_PRELOAD}` }, META_ECHO);
    await waitForHealth(proxy, 200);
  });

  after(async () => {
    await proxy?.stop();
  });

  it("uses that provider (no SDK of its own) and passes the caller's trace on to the upstream", async () => {
    await proxy.waitForLog("tracing enabled", (entry) => String(entry.msg).startsWith("tracing enabled"));
    const line = proxy.logs().find((entry) => String(entry.msg).startsWith("tracing enabled"))!;
    assert.equal(line.msg, "tracing enabled (the tracer provider already registered in this process)");
    const answer = await proxy.post(
      "/meta",
      {},
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, "x-request-id": "traced-1" },
    );
    assert.equal(answer.status, 200);
    const [version, traceId, spanId] = String((answer.body as Record<string, unknown>).traceparent).split("-");
    assert.equal(version, "00");
    assert.equal(traceId, TRACE_ID);
    assert.notEqual(spanId, CALLER_SPAN_ID, "the upstream's parent is our client span, not the caller's");
  });
});
