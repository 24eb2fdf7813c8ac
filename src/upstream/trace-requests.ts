import type { RequestId, Transport } from "@modelcontextprotocol/client";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";

/** What a request's CLIENT span says of its upstream. */
export interface TracedUpstream {
  /** The server's configured name (`mcpo.server`); empty in single-server mode. */
  server: string;
  /** `pipe` for stdio, `tcp` for HTTP (`network.transport`). */
  networkTransport: "pipe" | "tcp";
  /** The revision spoken, e.g. "2025-11-25" (`mcp.protocol.version`). */
  protocolVersion: string;
}

type Params = { name?: unknown; _meta?: Record<string, unknown> } & Record<string, unknown>;

/**
 * A CLIENT span per request sent to the upstream (tools/call, resources/read, prompts/get, ...), following the MCP
 * semantic conventions, for every request sent while a span is active (an HTTP request's SERVER span, or a span of
 * the user's own setup): requests of no traced request (connecting, the change stream, reconnects) make no spans.
 * The span's W3C `traceparent`/`tracestate` go to the upstream in the request's `params._meta` beside the caller's
 * own keys. Every request and answer passes here (the one place all of a connection's requests go out, whoever
 * sent them: REST routes and the MCP face alike); installed only while tracing is on (src/telemetry/tracing.ts).
 */
export function traceRequests(tracer: Tracer, transport: Transport, upstream: TracedUpstream): void {
  const pending = new Map<RequestId, Span>();
  const finish = (id: RequestId, errorType?: string, message?: string): void => {
    const span = pending.get(id);
    if (!span) return;
    pending.delete(id);
    if (errorType !== undefined) {
      span.setAttribute("error.type", errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) });
    }
    span.end();
  };

  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (!("method" in message)) return send(message, options);
    const { id, method } = message as { id?: RequestId; method: string };
    const params = (message.params ?? {}) as Params;
    if (id === undefined) {
      // The SDK cancels a request it gave up on (a timeout, the caller gone): no answer follows.
      if (method === "notifications/cancelled") {
        const { requestId, reason } = params as { requestId?: RequestId; reason?: unknown };
        if (requestId !== undefined) finish(requestId, "cancelled", typeof reason === "string" ? reason : undefined);
      }
      return send(message, options);
    }
    const active = context.active();
    if (trace.getSpan(active) === undefined) return send(message, options);
    const span = tracer.startSpan(
      spanName(method, params),
      { kind: SpanKind.CLIENT, attributes: attributesOf(method, params, id, upstream, transport.sessionId) },
      active,
    );
    pending.set(id, span);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(active, span), carrier);
    const traced = { ...message, params: { ...params, _meta: { ...params._meta, ...carrier } } };
    return send(traced, options).catch((error: unknown) => {
      finish(
        id,
        error instanceof Error ? error.name : "send_failed",
        error instanceof Error ? error.message : undefined,
      );
      throw error;
    });
  };

  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (!("method" in message) && pending.size > 0) {
      const { id } = message as { id?: RequestId | null };
      if (id !== undefined && id !== null && pending.has(id)) {
        if ("error" in message) {
          const { code, message: text } = message.error;
          pending.get(id)!.setAttribute("rpc.response.status_code", String(code));
          finish(id, String(code), text);
        } else {
          const result = (message as { result?: { isError?: unknown } }).result;
          // The MCP conventions: a tool's own error (isError) is an error of its span.
          if (result?.isError === true) finish(id, "tool_error");
          else finish(id);
        }
      }
    }
    deliver?.(message, extra);
  };

  const closed = transport.onclose;
  transport.onclose = () => {
    for (const id of [...pending.keys()]) finish(id, "connection_closed", "the connection closed before the answer");
    closed?.();
  };
}

/** `tools/call get_weather`, `prompts/get review`, else the method alone (low cardinality: no URIs). */
function spanName(method: string, params: Params): string {
  return (method === "tools/call" || method === "prompts/get") && typeof params.name === "string"
    ? `${method} ${params.name}`
    : method;
}

function attributesOf(
  method: string,
  params: Params,
  id: RequestId,
  upstream: TracedUpstream,
  sessionId: string | undefined,
): Record<string, string> {
  const attributes: Record<string, string> = {
    "mcp.method.name": method,
    "jsonrpc.request.id": String(id),
    "mcpo.server": upstream.server,
    "mcp.protocol.version": upstream.protocolVersion,
    "network.transport": upstream.networkTransport,
  };
  if (sessionId) attributes["mcp.session.id"] = sessionId;
  if (typeof params.name === "string") {
    if (method === "tools/call") {
      attributes["gen_ai.tool.name"] = params.name;
      attributes["gen_ai.operation.name"] = "execute_tool";
    } else if (method === "prompts/get") {
      attributes["gen_ai.prompt.name"] = params.name;
    }
  }
  return attributes;
}
