import express, { type RequestHandler, type Router } from "express";
import { createDocs } from "./docs.js";
import { createHealthHandler } from "./health.js";
import type { MountedServer } from "./mount-table.js";
import { createToolHandler, type ToolLookup } from "./tool-handler.js";

export interface MountRouterOptions {
  server: MountedServer;
  /** Public path of the mount: root path + mount path, e.g. "/mcpo/github" ("" at the root). */
  publicPath: string;
  /** Guards tool routes (the server's or the global key; a pass-through when none). */
  auth: RequestHandler;
  /** Guards docs, spec, health and index (auth with --strict-auth, else a pass-through). */
  docsAuth: RequestHandler;
  maxBodyBytes: number;
  healthTimeoutMs: number;
}

/** One server's routes: POST /{tool}, GET /openapi.json, /docs, /health and a small index at /. */
export function createMountRouter(options: MountRouterOptions): Router {
  const { server, publicPath, auth, docsAuth } = options;
  const router = express.Router({ strict: false });
  const specUrl = `${publicPath}/openapi.json`;

  router.get("/openapi.json", docsAuth, function openapi(_req, res) {
    res.json(server.document());
  });
  // Redirect ourselves so the root path survives (express.static would answer "/docs/" without it).
  router.get("/docs", docsAuth, function docsSlash(req, res, next) {
    if (req.originalUrl.split("?")[0]!.endsWith("/")) return next();
    res.redirect(301, `${publicPath}/docs/`);
  });
  router.use("/docs", docsAuth, ...createDocs({ specUrl, title: server.title() }));
  router.get("/health", docsAuth, createHealthHandler(server.connection, options.healthTimeoutMs));
  router.get("/", docsAuth, function index(_req, res) {
    res.json({
      name: server.title(),
      docs: `${publicPath}/docs`,
      openapi: specUrl,
      health: `${publicPath}/health`,
      tools: server.catalog?.routes.map((route) => `${publicPath}${route.path}`) ?? [],
    });
  });

  const lookup: ToolLookup = (path) => {
    const name = path.length > 1 && path.endsWith("/") ? path.slice(1, -1) : path.slice(1);
    if (!name || name.includes("/")) return undefined;
    return { target: server, toolName: safeDecode(name) };
  };
  router.post(
    "/{*tool}",
    auth,
    // Any content type is read as JSON, so `curl -d '{...}'` without a header works too.
    express.json({ limit: options.maxBodyBytes, type: () => true, strict: false }),
    createToolHandler(lookup),
  );
  return router;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
