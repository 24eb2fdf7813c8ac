import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "cors";
import express, { type Express, type RequestHandler } from "express";
import type { HttpConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import type { OpenAPIObject } from "../openapi/index.js";
import { createAuth } from "./auth.js";
import { addSpecAndDocs } from "./docs.js";
import { createErrorHandler, notFound } from "./error-handler.js";
import { createAggregateHealthHandler } from "./health.js";
import { createMountRouter } from "./mount-router.js";
import { MountTable } from "./mount-table.js";
import { createToolCallListener } from "./tool-handler.js";
import { withoutRootPath } from "./root-path.js";

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
  logger: Logger;
}

const allow: RequestHandler = function allowAll(_req, _res, next) {
  next();
};

/**
 * The HTTP surface. Tool calls are served on plain node:http by `toolCalls`;
 * everything else (spec, docs, health, indexes, errors) by the express app.
 * Servers are mounted into the returned table at run time (and unmounted on
 * hot reload); a dispatcher hands each request to its server's router.
 */
export function createHttpApp(options: HttpAppOptions): {
  app: Express;
  mounts: MountTable;
  /** Serves tool calls ahead of express; false for any other request (give it to `app`). */
  toolCalls: (req: IncomingMessage, res: ServerResponse) => boolean;
} {
  const { http, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  if (http.rootPath) {
    app.use(function rootPathPrefix(req, _res, next) {
      req.url = withoutRootPath(req.url, http.rootPath);
      next();
    });
  }
  app.use(cors({ origin: http.corsAllowOrigins.includes("*") ? "*" : [...http.corsAllowOrigins] }));

  const rootDocsAuth = http.strictAuth ? createAuth(http.apiKey) : allow;
  const mounts = new MountTable(options.mode === "single" ? "" : options.pathPrefix, (server, mountPath) =>
    createMountRouter({
      server,
      publicPath: `${http.rootPath}${mountPath}`,
      docsAuth: http.strictAuth ? createAuth(server.apiKey ?? http.apiKey) : allow,
      healthTimeoutMs: options.healthTimeoutMs,
    }),
  );

  if (options.mode === "multi") {
    addSpecAndDocs(app, {
      publicPath: http.rootPath,
      title: options.rootTitle,
      document: options.rootDocument,
      auth: rootDocsAuth,
    });
    app.get(
      "/health",
      rootDocsAuth,
      createAggregateHealthHandler({
        servers: () => mounts.servers(),
        disabled: options.disabledServers,
        timeoutMs: options.healthTimeoutMs,
      }),
    );
    app.get("/", rootDocsAuth, function index(_req, res) {
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
  return { app, mounts, toolCalls: createToolCallListener({ http, mounts, logger }) };
}
