import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log/logger.js";
import type { Metrics, RouteKind } from "../telemetry/metrics.js";
import { REQUEST_ID_HEADER, requestIdFrom } from "../telemetry/request-id.js";
import { tagRequestSpan } from "../telemetry/tracing.js";

/** What the pipeline learns about a request as it routes it: read when the answer is done. */
export interface RequestFacts {
  /** The request id (`X-Request-Id`), also on every log line about the request (field `req_id`). */
  readonly id: string;
  route: RouteKind;
  /** The server it was for, if any ("" at the root in single-server mode). */
  server?: string;
  /** The tool it called (REST tool calls). */
  tool?: string;
}

export interface ObserveOptions {
  /** Where requests are counted; undefined with --no-metrics. */
  metrics: Metrics | undefined;
  /** One `request` line per answer at info level; true with --access-log. */
  accessLog: boolean;
  logger: Logger;
}

/** Where a request's facts are kept on it: a symbol, so nothing else reads or clobbers them. */
const FACTS = Symbol("mcpo.requestFacts");
type Observed = IncomingMessage & { [FACTS]?: RequestFacts };

/** A request's id, as the pipeline gave it (undefined for a request that did not pass the pipeline). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as Observed)[FACTS]?.id;
}

/** The facts of a request, for a layer below the pipeline to add to (e.g. the tool of a call). */
export function factsOf(req: IncomingMessage): RequestFacts | undefined {
  return (req as Observed)[FACTS];
}

/**
 * The start of every request: its id (the caller's valid `X-Request-Id`, or a new one) set on the answer before
 * anything can answer, and, when metrics or the access log are on, one `close` listener that counts the answer and
 * writes its access-log line. The id rides on the request object, not in an AsyncLocalStorage: once one is entered,
 * Node runs promise hooks on every promise of the process (see src/upstream/elicitation.ts).
 */
export function createObserver(options: ObserveOptions): (req: IncomingMessage, res: ServerResponse) => RequestFacts {
  const { metrics, logger } = options;
  // The access line's fields are fixed and flat (never headers, env, keys: what the logger's redaction paths look
  // for), so its logger skips those paths: pino's path redaction costs about 16 µs a line here (26 µs with it, 10
  // without, measured), which is most of the line's cost. URLs in its strings are still redacted (formatters.log).
  const accessLogger = options.accessLog ? logger.child({}, { redact: { paths: [] } }) : undefined;
  const watching = metrics !== undefined || accessLogger !== undefined;
  return function observe(req, res) {
    const facts: RequestFacts = { id: requestIdFrom(req.headers[REQUEST_ID_HEADER]), route: "other" };
    (req as Observed)[FACTS] = facts;
    res.setHeader("X-Request-Id", facts.id);
    tagRequestSpan(facts.id);
    if (!watching) return facts;
    const started = performance.now();
    const url = req.url ?? "/"; // before the root path is taken off: the path the caller asked for
    const socket = req.socket;
    const bytesBefore = socket.bytesWritten;
    res.once("close", () => {
      // A caller gone before its answer was written: 499, as nginx logs it.
      const status = res.writableFinished ? res.statusCode : 499;
      const seconds = (performance.now() - started) / 1000;
      metrics?.httpRequest(facts.route, req.method ?? "?", status, seconds);
      if (!accessLogger) return;
      const query = url.indexOf("?");
      accessLogger.info(
        {
          req_id: facts.id,
          method: req.method,
          route: facts.route,
          // Never the query string: a caller may put a secret or an argument there.
          path: query === -1 ? url : url.slice(0, query),
          ...(facts.server ? { server: facts.server } : {}),
          ...(facts.tool !== undefined ? { tool: facts.tool } : {}),
          status,
          duration_ms: Math.round(seconds * 1e4) / 10,
          // Bytes written on the connection for this answer, headers included (one answer at a time per connection).
          bytes: socket.bytesWritten - bytesBefore,
        },
        "request",
      );
    });
    return facts;
  };
}

/**
 * The route kind of a request no tool or MCP route took, from its first path segment below its mount (`docs`,
 * `openapi.json`, `health`...): plain string comparisons, no regex on the hot path.
 */
export function routeKindOf(subUrl: string): RouteKind {
  let end = subUrl.length;
  for (let i = 1; i < subUrl.length; i++) {
    const code = subUrl.charCodeAt(i);
    if (code === 47 /* / */ || code === 63 /* ? */) {
      end = i;
      break;
    }
  }
  switch (subUrl.slice(1, end)) {
    case "openapi.json":
      return "openapi";
    case "docs":
      return "docs";
    case "health":
      return "health";
    case "metrics":
      return "metrics";
    case "livez":
    case "readyz":
      return "probe";
    default:
      return "other";
  }
}
