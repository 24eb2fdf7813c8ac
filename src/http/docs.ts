import type { IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import express, { type IRouter } from "express";
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
 * Swagger UI's browser files, copied beside the compiled code by `npm run build` (scripts/copy-swagger-ui.mjs):
 * no run-time dependency brings them, as the package that ships them runs a telemetry script at install.
 */
const ASSETS = fileURLToPath(new URL("../swagger-ui/", import.meta.url));

/**
 * GET /openapi.json and Swagger UI at /docs, on the root app or a server's router alike. Swagger UI fetches the
 * spec by URL (`swagger-ui-init.js` names it), so it always shows the current document. Auth is decided before, in
 * the pipeline (pipeline.ts).
 */
export function addSpecAndDocs(router: IRouter, options: DocsOptions): void {
  const { publicPath } = options;
  const page = docsPage(options.title);
  const init = initScript(`${publicPath}/openapi.json`);
  router.get("/openapi.json", async function openapi(req, res) {
    await options.prepare?.(req);
    res.json(options.document());
  });
  // Redirect ourselves so the root path survives, and so the page's relative asset URLs resolve under /docs/.
  router.get("/docs", function docsSlash(req, res, next) {
    if (req.originalUrl.split("?")[0]!.endsWith("/")) return next();
    res.redirect(301, `${publicPath}/docs/`);
  });
  router.get(["/docs/", "/docs/index.html"], function docsPageRoute(_req, res) {
    res.type("html").set("Cache-Control", "no-cache").send(page);
  });
  router.get("/docs/swagger-ui-init.js", function docsInit(_req, res) {
    res.type("js").set("Cache-Control", "no-cache").send(init);
  });
  router.use("/docs", express.static(ASSETS, { index: false, maxAge: "1h", fallthrough: true }));
}

function docsPage(title: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(title)}</title>
    <link rel="stylesheet" href="./swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js"></script>
    <script src="./swagger-ui-standalone-preset.js"></script>
    <script src="./swagger-ui-init.js"></script>
  </body>
</html>
`;
}

/** The script that starts Swagger UI on the document at `url` (its options as JSON: no code is built from input). */
function initScript(url: string): string {
  const options = { url, dom_id: "#swagger-ui", deepLinking: true, layout: "StandaloneLayout" };
  return `window.onload = function () {
  var options = ${JSON.stringify(options, null, 2).replace(/</g, "\\u003c")};
  options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
  options.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
  window.ui = SwaggerUIBundle(options);
};
`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!,
  );
}
