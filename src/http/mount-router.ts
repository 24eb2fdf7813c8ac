import express, { type Router } from "express";
import { addSpecAndDocs } from "./docs.js";
import { createHealthHandler } from "./health.js";
import type { MountedServer } from "./mount-table.js";
import { createOperationRoutes } from "./operation-routes.js";
import { createTaskRoutes } from "./task-routes.js";

export interface MountRouterOptions {
  server: MountedServer;
  /** Public path of the mount: root path + mount path, e.g. "/mcpo/github" ("" at the root). */
  publicPath: string;
  healthTimeoutMs: number;
  /** Largest request body of an operation route (--max-body-bytes), as for a tool call. */
  maxBodyBytes: number;
}

/** One server's GET routes: /openapi.json, /docs, /health, /tools and a small index at /. */
export function createMountRouter(options: MountRouterOptions): Router {
  const { server, publicPath } = options;
  const router = express.Router({ strict: false });

  // Tool calls (POST /{tool}) never get here, and auth is decided before: see pipeline.ts.
  addSpecAndDocs(router, {
    publicPath,
    title: server.title(),
    document: () => server.document(),
    ...(server.prepareDocument ? { prepare: (req) => server.prepareDocument!(req.headers) } : {}),
  });
  router.use(createTaskRoutes(server));
  router.get("/health", createHealthHandler(server.connection, options.healthTimeoutMs, server.forwarding));
  // The served tools as the upstream defined them: their schemas untouched ($schema, $defs, $anchor, x-mcp-header),
  // where the OpenAPI document must adapt them for OpenAPI tools.
  router.get("/tools", function toolDefinitions(_req, res) {
    const served = new Set(server.catalog?.routes.map((route) => route.toolName));
    res
      .set("Cache-Control", "no-store")
      .json({ tools: (server.listedTools ?? server.connection.tools).filter((tool) => served.has(tool.name)) });
  });
  router.use(createOperationRoutes({ server, maxBodyBytes: options.maxBodyBytes }));
  router.get("/", function index(_req, res) {
    const offered = server.connection.offerings;
    res.json({
      name: server.title(),
      docs: `${publicPath}/docs`,
      openapi: `${publicPath}/openapi.json`,
      health: `${publicPath}/health`,
      definitions: `${publicPath}/tools`,
      tools: server.catalog?.routes.map((route) => `${publicPath}${route.path}`) ?? [],
      ...(offered.resources
        ? { resources: `${publicPath}/resources`, resource_templates: `${publicPath}/resources/templates` }
        : {}),
      ...(offered.prompts ? { prompts: `${publicPath}/prompts` } : {}),
    });
  });

  return router;
}
