import type { IncomingMessage, RequestListener } from "node:http";
import express from "express";
import type { HttpConfig } from "../config/schema.js";
import type { ProxyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import type { OpenAPIObject } from "../openapi/index.js";
import type { Metrics } from "../telemetry/metrics.js";
import { addSpecAndDocs } from "./docs.js";
import { createErrorHandler, notFound } from "./error-handler.js";
import { createAggregateHealthHandler } from "./health.js";
import { createMountRouter } from "./mount-router.js";
import { MountTable } from "./mount-table.js";
import { createPipeline, type McpFace } from "./pipeline.js";
import type { Readiness } from "./probes.js";
import { createToolCaller } from "./tool-handler.js";

export interface HttpAppOptions {
  http: HttpConfig;
  /** "single": one server owns the root; "multi": servers under `pathPrefix`, plus aggregated root routes. */
  mode: "single" | "multi";
  pathPrefix: string;
  /** Multi mode: the aggregated document of every server. */
  rootDocument: () => OpenAPIObject;
  /** Multi mode: title of the aggregated document (--name, or "mcpo-ts"). */
  rootTitle: string;
  /** Multi mode: names of servers the config disables. */
  disabledServers: () => readonly string[];
  healthTimeoutMs: number;
  /** Why no request can be served now (shutting down, over the connection cap); checked first on every request. */
  refusal: (req: IncomingMessage) => ProxyError | undefined;
  /** What GET /readyz says: ready once every server's first outcome is known, not from the start of shutdown. */
  readiness: () => Readiness;
  /** Multi mode: the aggregated MCP endpoint (`/mcp`). */
  aggregateMcp?: () => McpFace | undefined;
  /** Where requests and tool calls are counted; undefined with --no-metrics. */
  metrics?: Metrics;
  logger: Logger;
}

/**
 * The HTTP surface: every request goes through the pipeline (host, root path,
 * CORS, methods, auth: pipeline.ts), then tool calls are served on plain
 * node:http and everything else (spec, docs, health, indexes, errors) by the
 * express app. Servers are mounted into the returned table at run time (and
 * unmounted on hot reload); a dispatcher hands each request to its server's
 * router.
 */
export function createHttpApp(options: HttpAppOptions): {
  /** The request listener of the HTTP server. */
  listener: RequestListener;
  mounts: MountTable;
} {
  const { http, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  const mounts = new MountTable(options.mode === "single" ? "" : options.pathPrefix, (server, mountPath) =>
    createMountRouter({
      server,
      publicPath: `${http.rootPath}${mountPath}`,
      healthTimeoutMs: options.healthTimeoutMs,
      maxBodyBytes: http.maxBodyBytes,
    }),
  );

  if (options.mode === "multi") {
    addSpecAndDocs(app, {
      publicPath: http.rootPath,
      title: options.rootTitle,
      document: options.rootDocument,
    });
    app.get(
      "/health",
      createAggregateHealthHandler({
        servers: () => mounts.servers(),
        disabled: options.disabledServers,
        timeoutMs: options.healthTimeoutMs,
      }),
    );
    app.get("/", function index(_req, res) {
      res.json({
        name: options.rootTitle,
        docs: `${http.rootPath}/docs`,
        openapi: `${http.rootPath}/openapi.json`,
        health: `${http.rootPath}/health`,
        servers: Object.fromEntries(
          mounts.servers().map((server) => {
            const base = `${http.rootPath}${mounts.mountPath(server.name)}`;
            return [
              server.name,
              {
                docs: `${base}/docs`,
                openapi: `${base}/openapi.json`,
                health: `${base}/health`,
                state: server.connection.state,
              },
            ];
          }),
        ),
        disabled: options.disabledServers(),
      });
    });
  }

  app.use(function dispatchToServer(req, res, next) {
    const hit = mounts.resolve(req.url);
    if (!hit) return next();
    const url = req.url;
    req.url = hit.subUrl;
    hit.router(req, res, (error?: unknown) => {
      req.url = url;
      next(error);
    });
  });

  app.use(notFound());
  app.use(createErrorHandler(logger));
  const listener = createPipeline({
    http,
    mounts,
    callTool: createToolCaller({
      maxBodyBytes: http.maxBodyBytes,
      logger,
      rootPath: http.rootPath,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    }),
    app,
    refusal: options.refusal,
    readiness: options.readiness,
    ...(options.aggregateMcp ? { aggregateMcp: options.aggregateMcp } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    metricsRoute: http.metrics !== false && http.metrics.port === undefined,
    logger,
  });
  return { listener, mounts };
}
