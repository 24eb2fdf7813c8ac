import type { IncomingMessage, ServerResponse } from "node:http";
import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { Logger } from "../log/logger.js";

/**
 * Optional OpenTelemetry tracing. Off unless the standard OTEL_* environment asks for it (see tracingWanted), or
 * the process already has a tracer provider of its own (a `node --import` setup of the user's), which is then used
 * as it is. Only `@opentelemetry/api` is imported here; the SDK and its exporters are loaded (otel-setup.ts) only
 * when tracing is on. Off, the hot path pays one check of `tracer` (no spans, no context manager).
 */
let tracer: Tracer | undefined;
/** Flushes and stops the SDK we started (not a provider of the user's, which is theirs to stop). */
let stopSdk: (() => Promise<void>) | undefined;

/** The name and version our spans are made under (the instrumentation scope). */
export const TRACER_NAME = "mcpo-ts";

/** The tracer when tracing is on, else undefined: callers check it before doing any tracing work. */
export function activeTracer(): Tracer | undefined {
  return tracer;
}

/**
 * Whether the environment asks for tracing: OTEL_TRACES_EXPORTER set to anything but "none", or an OTLP endpoint
 * given (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); never with OTEL_SDK_DISABLED=true.
 */
export function tracingWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters) return exporters.toLowerCase() !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Whether a tracer provider was registered before us (the api's proxy then has a delegate). */
function providerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/**
 * Turns tracing on if the environment asks for it or a provider is already registered; called once at start, before
 * the server listens. A setup that fails is logged and leaves tracing off: tracing never stops the proxy.
 */
export async function startTracing(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  version: string,
): Promise<void> {
  if (providerRegistered()) {
    tracer = trace.getTracer(TRACER_NAME, version);
    logger.debug("tracing enabled (the tracer provider already registered in this process)");
    return;
  }
  if (!tracingWanted(env)) return;
  try {
    const { setUpSdk } = await import("./otel-setup.js");
    const sdk = await setUpSdk(env, logger, version);
    if (!sdk) return;
    stopSdk = sdk.shutdown;
    tracer = trace.getTracer(TRACER_NAME, version);
    logger.debug({ exporters: sdk.exporters }, "tracing enabled");
  } catch (error) {
    logger.error({ err: error }, "could not set up tracing; going on without it");
  }
}

/** Exports the spans still queued and stops the SDK we started; nothing when tracing is off or not ours. */
export async function stopTracing(): Promise<void> {
  const stop = stopSdk;
  stopSdk = undefined;
  await stop?.();
}

/** Puts a request's id (`X-Request-Id`, the `req_id` of its log lines) on its SERVER span, when tracing is on. */
export function tagRequestSpan(requestId: string): void {
  if (tracer !== undefined) trace.getActiveSpan()?.setAttribute("mcpo.request_id", requestId);
}

/** Requests whose span is started: the pipeline's second pass through tracedRequest goes on serving. */
const traced = new WeakSet<IncomingMessage>();

/**
 * The front of an HTTP request while tracing is on: starts its SERVER span and serves it again with `serve` inside
 * the span's context, returning true; false (go on serving) when tracing is off or the span is already started. So
 * the pipeline needs one line, `if (tracedRequest(req, res, frontPipeline, routeOf)) return;`, and pays one check
 * when tracing is off. The caller's W3C `traceparent`/`tracestate` make the span a child of the caller's. It ends
 * when the response finishes or the connection closes; `routeOf` names the route template then (low cardinality,
 * e.g. `/{tool}`), or undefined.
 */
export function tracedRequest(
  req: IncomingMessage,
  res: ServerResponse,
  serve: (req: IncomingMessage, res: ServerResponse) => void,
  routeOf: (req: IncomingMessage) => string | undefined,
): boolean {
  if (tracer === undefined || traced.has(req)) return false;
  traced.add(req);
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": method,
        "url.path": query === -1 ? url : url.slice(0, query),
        "url.scheme": "encrypted" in req.socket && req.socket.encrypted ? "https" : "http",
        "network.protocol.version": req.httpVersion,
      },
    },
    parent,
  );
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    res.off("finish", end);
    res.off("close", end);
    const route = routeOf(req);
    if (route !== undefined) {
      span.setAttribute("http.route", route);
      span.updateName(`${method} ${route}`);
    }
    if (res.headersSent) {
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) {
        span.setAttribute("error.type", String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  };
  res.on("finish", end);
  res.on("close", end);
  context.with(trace.setSpan(parent, span), serve, undefined, req, res);
  return true;
}
