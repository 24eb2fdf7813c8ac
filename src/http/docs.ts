import type { IncomingMessage } from "node:http";
import type { IRouter } from "express";
import swaggerUi from "swagger-ui-express";
import type { OpenAPIObject } from "../openapi/index.js";

export interface DocsOptions {
  /** Public path where the document's routes start: root path + mount path ("" at the very root). */
  publicPath: string;
  title: string;
  /**
   * The current document (rebuilt elsewhere when tools change). It throws a ProxyError (503 with Retry-After)
   * while the tools are not known yet; Swagger UI then shows that error until it is reloaded.
   */
  document: () => OpenAPIObject;
  /** Runs before the document is read (a forwarding server may list its tools with the caller's session). */
  prepare?: (req: IncomingMessage) => Promise<void>;
}

/**
 * GET /openapi.json and Swagger UI at /docs, on the root app or a server's
 * router alike. Swagger UI fetches the spec by URL, so it always shows the
 * current document; each mount gets its own serveFiles() handlers (the
 * shared `serve` + several setup() calls would show the last document
 * everywhere). Auth is decided before, in the pipeline (pipeline.ts).
 */
export function addSpecAndDocs(router: IRouter, options: DocsOptions): void {
  const { publicPath } = options;
  const swaggerOptions = { swaggerOptions: { url: `${publicPath}/openapi.json` }, customSiteTitle: options.title };
  router.get("/openapi.json", async function openapi(req, res) {
    await options.prepare?.(req);
    res.json(options.document());
  });
  // Redirect ourselves so the root path survives (express.static would answer "/docs/" without it).
  router.get("/docs", function docsSlash(req, res, next) {
    if (req.originalUrl.split("?")[0]!.endsWith("/")) return next();
    res.redirect(301, `${publicPath}/docs/`);
  });
  router.use("/docs", ...swaggerUi.serveFiles(undefined, swaggerOptions), swaggerUi.setup(undefined, swaggerOptions));
}
