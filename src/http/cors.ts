import type { IncomingMessage, ServerResponse } from "node:http";

/** Methods of a tool route, as the preflight and `Allow` advertise them. */
export const TOOL_ROUTE_METHODS = "POST, OPTIONS";
/** Methods of every other route (documents, docs, health, indexes). */
export const READ_ROUTE_METHODS = "GET, HEAD, OPTIONS";
/** Methods of a mount's operation routes (resources, prompts, tasks: see pipeline.ts): reads, calls, cancels. */
export const OPERATION_ROUTE_METHODS = "GET, HEAD, POST, DELETE, OPTIONS";

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = "600";

export interface Cors {
  /** Sets the CORS headers of an actual (non-preflight) answer: the allowed origin, and `Vary: Origin` for a list. */
  answer(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Answers an OPTIONS request with 204: `Allow: methods`, and for a browser's preflight the allowed origin,
   * `methods`, the requested headers and a max age. A refused origin gets no `Access-Control-Allow-Origin`, which
   * makes the browser give up.
   */
  preflight(req: IncomingMessage, res: ServerResponse, methods: string): void;
  /**
   * Whether a tool call may run for the request's `Origin`: none sent (not a browser), `*` configured, an
   * allowed origin, or the proxy's own origin (its Swagger UI). A simple cross-site POST needs no preflight, so
   * hiding the answer is not enough: a refused origin must not run the tool.
   */
  mayCall(req: IncomingMessage): boolean;
}

/**
 * CORS for every route, express's and the tool path's alike (one copy, so they cannot drift). Written here rather
 * than with the `cors` package: that one allocates its option objects and header lists on every request, which
 * the tool path cannot afford, and it cannot advertise different methods per route.
 */
export function createCors(origins: readonly string[]): Cors {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const allowOrigin = (req: IncomingMessage, res: ServerResponse): void => {
    if (any) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      return;
    }
    res.setHeader("Vary", "Origin");
    const origin = req.headers.origin;
    if (origin !== undefined && allowed.has(origin)) res.setHeader("Access-Control-Allow-Origin", origin);
  };
  return {
    answer: allowOrigin,
    preflight(req, res, methods) {
      allowOrigin(req, res);
      res.setHeader("Allow", methods);
      if (req.headers["access-control-request-method"] !== undefined) {
        res.setHeader("Access-Control-Allow-Methods", methods);
        const requested = req.headers["access-control-request-headers"];
        if (requested) res.setHeader("Access-Control-Allow-Headers", requested);
        res.appendHeader("Vary", "Access-Control-Request-Headers");
        res.setHeader("Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
      }
      res.writeHead(204, { "Content-Length": "0" }).end();
    },
    mayCall(req) {
      const origin = req.headers.origin;
      if (any || origin === undefined || allowed.has(origin)) return true;
      const host = req.headers.host;
      return host !== undefined && origin.slice(origin.indexOf("//") + 2) === host;
    },
  };
}
