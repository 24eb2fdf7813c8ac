import express, { type RequestHandler, type Router } from "express";
import { createDocs } from "./docs.js";
import { createHealthHandler } from "./health.js";
import type { MountedServer } from "./mount-table.js";

export interface MountRouterOptions {
  server: MountedServer;
  /** Public path of the mount: root path + mount path, e.g. "/mcpo/github" ("" at the root). */
  publicPath: string;
  /** Guards docs, spec, health and index (auth with --strict-auth, else a pass-through). */
  docsAuth: RequestHandler;
  healthTimeoutMs: number;
}

/** One server's GET routes: /openapi.json, /docs, /health and a small index at /. */
export function createMountRouter(options: MountRouterOptions): Router {
  const { server, publicPath, docsAuth } = options;
  const router = express.Router({ strict: false });
  const specUrl = `${publicPath}/openapi.json`;

  // Tool calls (POST /{tool}) never get here: createToolCallListener serves them ahead of express.
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

  return router;
}
