import cors from "cors";
import express, { type Express, type RequestHandler } from "express";
import type { HttpConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import type { OpenAPIObject } from "../openapi/index.js";
import { createAuth } from "./auth.js";
import { createDocs } from "./docs.js";
import { createErrorHandler, notFound } from "./error-handler.js";
import { createHealthHandler } from "./health.js";
import { createToolHandler, type ToolLookup, type ToolTarget } from "./tool-handler.js";

export interface HttpAppOptions {
  http: HttpConfig;
  /** The single upstream, mounted at the root. */
  target: ToolTarget;
  /** The current OpenAPI document (rebuilt elsewhere when tools change). */
  document: () => OpenAPIObject;
  docsTitle: () => string;
  healthTimeoutMs: number;
  logger: Logger;
}

const allow: RequestHandler = function allowAll(_req, _res, next) {
  next();
};

/** The express app: spec, docs, health, and one dispatcher for every tool route. */
export function createHttpApp(options: HttpAppOptions): Express {
  const { http, target, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  if (http.rootPath) app.use(stripRootPath(http.rootPath));
  app.use(corsFor(http.corsAllowOrigins));

  const auth = http.apiKey ? createAuth({ apiKey: http.apiKey }) : allow;
  const docsAuth = http.strictAuth ? auth : allow;
  const specUrl = `${http.rootPath}/openapi.json`;

  app.get("/openapi.json", docsAuth, function openapi(_req, res) {
    res.json(options.document());
  });
  // Redirect ourselves so the root path survives (express.static would answer "/docs/" without it).
  app.get("/docs", docsAuth, function docsSlash(req, res, next) {
    if (req.path.endsWith("/")) return next();
    res.redirect(301, `${http.rootPath}/docs/`);
  });
  app.use("/docs", docsAuth, ...createDocs({ specUrl, title: options.docsTitle() }));
  app.get("/health", docsAuth, createHealthHandler(target.connection, options.healthTimeoutMs));
  app.get("/", docsAuth, function index(_req, res) {
    res.json({
      name: options.docsTitle(),
      docs: `${http.rootPath}/docs`,
      openapi: specUrl,
      health: `${http.rootPath}/health`,
      tools: target.catalog?.routes.map((route) => `${http.rootPath}${route.path}`) ?? [],
    });
  });

  const lookup: ToolLookup = (path) => {
    const name = path.length > 1 && path.endsWith("/") ? path.slice(1, -1) : path.slice(1);
    if (!name || name.includes("/")) return undefined;
    return { target, toolName: safeDecode(name) };
  };
  app.post(
    "/{*tool}",
    auth,
    // Any content type is read as JSON, so `curl -d '{...}'` without a header works too.
    express.json({ limit: http.maxBodyBytes, type: () => true, strict: false }),
    createToolHandler(lookup),
  );

  app.use(notFound());
  app.use(createErrorHandler(logger));
  return app;
}

/** Behind a reverse proxy that keeps the prefix, accept "/prefix/x" as "/x". */
function stripRootPath(rootPath: string): RequestHandler {
  return function rootPathPrefix(req, _res, next) {
    if (req.url === rootPath || req.url.startsWith(`${rootPath}/`) || req.url.startsWith(`${rootPath}?`)) {
      req.url = req.url.slice(rootPath.length) || "/";
    }
    next();
  };
}

function corsFor(origins: readonly string[]): RequestHandler {
  return cors({ origin: origins.includes("*") ? "*" : [...origins] });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
