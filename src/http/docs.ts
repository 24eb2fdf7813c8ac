import type { RequestHandler } from "express";
import swaggerUi from "swagger-ui-express";

export interface DocsOptions {
  /** URL of the OpenAPI document as the browser must fetch it (root path included). */
  specUrl: string;
  title: string;
}

/**
 * Swagger UI that fetches the spec by URL, so it always shows the current
 * document. Each mount gets its own serveFiles() handlers: the shared
 * `serve` + several setup() calls would show the last document everywhere.
 */
export function createDocs(options: DocsOptions): RequestHandler[] {
  const swaggerOptions = { swaggerOptions: { url: options.specUrl }, customSiteTitle: options.title };
  return [...swaggerUi.serveFiles(undefined, swaggerOptions), swaggerUi.setup(undefined, swaggerOptions)];
}
