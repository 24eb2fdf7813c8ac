import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HttpConfig } from "../config/schema.js";
import { MethodNotAllowedError, NotFoundError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import { createAuthorize } from "./auth.js";
import { sendError, toProxyError } from "./error-handler.js";
import { createObserver } from "./observe.js";

/** The path of the Prometheus scrape route, at the root (after the root path). */
export const METRICS_PATH = "/metrics";

/** Whether a URL (root path taken off) is `/metrics`, with or without a query. */
export function isMetricsPath(url: string): boolean {
  return url.startsWith(METRICS_PATH) && (url.length === METRICS_PATH.length || url[METRICS_PATH.length] === "?");
}

/** GET or HEAD /metrics, once allowed: the text exposition, never cached. */
export function sendMetrics(req: IncomingMessage, res: ServerResponse, metrics: Metrics, logger: Logger): void {
  metrics.text().then(
    (body) => {
      res.writeHead(200, {
        "Content-Type": metrics.contentType,
        "Cache-Control": "no-store",
        "Content-Length": Buffer.byteLength(body),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    },
    (error: unknown) => sendError(req, res, error, logger),
  );
}

/**
 * The listener of `--metrics-port`: `/metrics` alone (GET, HEAD), guarded as on the main port (the key only with
 * --strict-auth), with a request id and an access-log line like any other answer; everything else is 404.
 */
export function createMetricsListener(options: {
  http: HttpConfig;
  metrics: Metrics;
  logger: Logger;
}): RequestListener {
  const { http, metrics, logger } = options;
  const authorize = createAuthorize(http, { logger });
  const observe = createObserver({ metrics, accessLog: http.accessLog, logger });
  return function metricsListener(req, res) {
    const facts = observe(req, res);
    const url = req.url ?? "/";
    if (!isMetricsPath(url))
      return sendError(req, res, new NotFoundError(req.method ?? "?", url.split("?")[0]!), logger);
    facts.route = "metrics";
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendError(req, res, new MethodNotAllowedError(req.method ?? "?", METRICS_PATH, "GET, HEAD"), logger);
    }
    Promise.resolve(authorize(req, undefined, false)).then(
      (denied) => (denied ? sendError(req, res, denied, logger) : sendMetrics(req, res, metrics, logger)),
      (error: unknown) => sendError(req, res, toProxyError(error), logger),
    );
  };
}
