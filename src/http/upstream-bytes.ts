import type { ServerResponse } from "node:http";

/**
 * 200 with bytes an upstream chose (an image a tool returned, a resource's contents) and their media type, served
 * under the proxy's own origin: never sniffed into another type, never run as a page if a browser opens it.
 * `Vary: Accept`, since the caller's Accept chose bytes over JSON (kept beside CORS's `Vary: Origin`).
 */
export function sendUpstreamBytes(res: ServerResponse, type: string, bytes: Buffer): void {
  const vary = res.getHeader("Vary");
  res.writeHead(200, {
    "Content-Type": type,
    "Content-Length": bytes.length,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    Vary: vary ? `${String(vary)}, Accept` : "Accept",
  });
  res.end(bytes);
}
