import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HttpConfig } from "../config/schema.js";
import { HostNotAllowedError, MethodNotAllowedError, OriginNotAllowedError, type ProxyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { tracedRequest } from "../telemetry/tracing.js";
import type { Metrics } from "../telemetry/metrics.js";
import { createAuthorize, type AuthDecision } from "./auth.js";
import { createCors, OPERATION_ROUTE_METHODS, READ_ROUTE_METHODS, TOOL_ROUTE_METHODS } from "./cors.js";
import { sendError, toProxyError } from "./error-handler.js";
import { createHostCheck } from "./host-check.js";
import { readJsonBody } from "./json-body.js";
import { isMetricsPath, sendMetrics } from "./metrics-route.js";
import type { MountTable } from "./mount-table.js";
import { createProbes, type Readiness } from "./probes.js";
import { createObserver, routeKindOf, type RequestFacts } from "./observe.js";
import { withoutRootPath } from "./root-path.js";
import { toolNameOf, type ToolCaller, type ToolTarget } from "./tool-handler.js";
import { routeTemplate } from "./trace-route.js";

export interface PipelineOptions {
  http: HttpConfig;
  mounts: MountTable;
  /** Serves a tool call the pipeline let through (tool-handler.ts). */
  callTool: ToolCaller;
  /** Everything that is not a tool call: the express app. */
  app: RequestListener;
  /** Why no request can be served now (shutting down, over the connection cap), checked first; else undefined. */
  refusal: (req: IncomingMessage) => ProxyError | undefined;
  /** What GET /readyz says (probes.ts). */
  readiness: () => Readiness;
  /** Config mode: the aggregated MCP endpoint at `/mcp` (src/mcp-face/); undefined in single-server mode. */
  aggregateMcp?: () => McpFace | undefined;
  /** Where requests are counted; undefined with --no-metrics. */
  metrics?: Metrics;
  /** Whether `/metrics` is served here (metrics on, and no --metrics-port). */
  metricsRoute?: boolean;
  logger: Logger;
}

/** An MCP endpoint as the pipeline hands it a request (src/mcp-face/endpoint.ts). */
export interface McpFace {
  /** Streamable HTTP. */
  handle(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): void;
  /** Legacy HTTP+SSE: the stream, whose client is told to POST to `messagesPath`. */
  openSse(req: IncomingMessage, res: ServerResponse, messagesPath: string): void;
  /** Legacy HTTP+SSE: one message for a session. */
  postSseMessage(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): void;
}

/** The path of a mount's MCP endpoint (Streamable HTTP), and of the aggregated one in config mode. */
export const MCP_PATH = "/mcp";
/** The legacy HTTP+SSE transport's two paths beside it: the stream (GET) and its messages (POST ?sessionId=). */
export const SSE_PATH = "/sse";
export const SSE_MESSAGES_PATH = "/messages";
/** Methods of an MCP endpoint: POST a message, GET the 2025 notification stream, DELETE a 2025 session. */
const MCP_METHODS = "GET, POST, DELETE, OPTIONS";
/** Which of an MCP endpoint's routes a request is for. */
type McpRoute = "mcp" | "sse" | "messages";
/** Headers a browser client of the MCP endpoint must be able to read. */
const MCP_EXPOSED_HEADERS = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";

/**
 * First path segments of a mount's MCP operation routes other than tools (resources, prompts, task status):
 * they act on the upstream as a tool call does, so they get a tool call's checks (origin, key, allow-list) whatever
 * the method, and express serves them (mount-router.ts).
 */
export const OPERATION_ROUTE_ROOTS: ReadonlySet<string> = new Set(["resources", "prompts", "tasks"]);

/** GET routes of a mount (mount-router.ts) whose names a tool may share: GET goes to the route, POST to the tool. */
const MOUNT_GET_ROUTES = new Set(["openapi.json", "docs", "health", "tools", ...OPERATION_ROUTE_ROOTS]);

/**
 * The front of every request, in order: the orchestrator probes (probes.ts: /livez, /readyz, GET and HEAD only),
 * admission (shutdown, connection cap), the Host check, the root path,
 * CORS (a preflight is answered here), then either a tool call (origin, key, then tool-handler.ts on plain
 * node:http) or express (key with --strict-auth, then its routes). Each concern exists here once, for both paths.
 *
 * Methods: a tool route takes POST (and OPTIONS); any other method gets 405 with `Allow: POST`, except GET and
 * HEAD on a name a mount route also has (`/health`), which go to that route. Every other route takes GET, HEAD
 * and OPTIONS, and the preflight advertises just those.
 */
export function createPipeline(options: PipelineOptions): RequestListener {
  const { http, mounts, callTool, app, refusal, logger } = options;
  const hostAllowed = createHostCheck(http);
  const cors = createCors(http.corsAllowOrigins);
  const authorize = createAuthorize(http, { logger });
  const refuse = (req: IncomingMessage, res: ServerResponse, error: ProxyError): void =>
    sendError(req, res, error, logger);
  const routeOf = (req: IncomingMessage): string | undefined => routeTemplate(req, mounts, http.rootPath);
  const probe = createProbes({ rootPath: http.rootPath, readiness: options.readiness });
  const observe = createObserver({ metrics: options.metrics, accessLog: http.accessLog, logger });
  const metrics = options.metricsRoute ? options.metrics : undefined;

  return function frontPipeline(req, res) {
    // Probes first: never refused, never traced or logged (a kubelet asks every few seconds).
    if (probe(req, res)) return;
    // Tracing (src/telemetry/tracing.ts): when on, the request comes back here inside its span.
    if (tracedRequest(req, res, frontPipeline, routeOf)) return;
    // The request id is on every answer, refusals included.
    const facts = observe(req, res);
    const refused = refusal(req);
    if (refused) return refuse(req, res, refused);
    if (hostAllowed && !hostAllowed(req.headers.host)) return refuse(req, res, new HostNotAllowedError());
    if (http.rootPath) req.url = withoutRootPath(req.url ?? "/", http.rootPath);
    // GET /metrics at the root, whatever the mode (a tool named `metrics` keeps POST, as `/health` does).
    if (metrics && (req.method === "GET" || req.method === "HEAD") && isMetricsPath(req.url ?? "/")) {
      facts.route = "metrics";
      cors.answer(req, res);
      return whenAllowed(req, res, authorize(req, undefined, false), () => sendMetrics(req, res, metrics, logger));
    }
    const rootRoute = options.aggregateMcp && mcpRouteOf(req.url ?? "/", req);
    const aggregate = rootRoute ? options.aggregateMcp!() : undefined;
    const hit = aggregate ? undefined : mounts.resolve(req.url ?? "/");
    const route = aggregate ? rootRoute : hit?.server.mcp && mcpRouteOf(hit.subUrl, req);
    const face = aggregate ?? (route ? hit?.server.mcp : undefined);
    if (face && route) {
      facts.route = "mcp";
      if (hit) facts.server = hit.server.name;
      const base = `${http.rootPath}${hit ? mounts.mountPath(hit.server.name) : ""}`;
      return serveMcp(req, res, face, hit?.server, route, base);
    }
    const toolName = hit && toolNameOf(hit.subUrl);
    const method = req.method;
    if (hit) facts.server = hit.server.name;

    if (method === "OPTIONS") {
      const operation = hit !== undefined && isOperationRoute(hit.subUrl);
      facts.route = kindOf(hit?.subUrl ?? req.url ?? "/", toolName, hit?.server, operation);
      return cors.preflight(
        req,
        res,
        operation
          ? OPERATION_ROUTE_METHODS
          : toolName !== undefined
            ? methodsOf(hit!.server, toolName)
            : READ_ROUTE_METHODS,
      );
    }
    cors.answer(req, res);
    if (method === "POST" && toolName !== undefined) {
      facts.route = "tool";
      facts.tool = toolName;
      if (!cors.mayCall(req)) return refuse(req, res, new OriginNotAllowedError());
      return whenAllowed(req, res, authorize(req, hit!.server, true), () => callTool(req, res, hit!.server, toolName));
    }

    // An operation route (resources, prompts, tasks): checked as a tool call is, served by express.
    const operation = hit !== undefined && isOperationRoute(hit.subUrl);
    facts.route = kindOf(hit?.subUrl ?? req.url ?? "/", toolName, hit?.server, operation);
    if (operation && !cors.mayCall(req)) return refuse(req, res, new OriginNotAllowedError());
    whenAllowed(req, res, authorize(req, hit?.server, operation), () => serveOther(req, res, hit?.server, toolName));
  };

  /**
   * Goes on with `go` once the auth decision allows it, else refuses. Keys only: decided here and now (the hot path,
   * no promise). A JWT being verified: go on once it is.
   */
  function whenAllowed(req: IncomingMessage, res: ServerResponse, decision: AuthDecision, go: () => void): void {
    if (decision === undefined) return go();
    if (!(decision instanceof Promise)) return refuse(req, res, decision);
    decision.then(
      (denied) => (denied ? refuse(req, res, denied) : go()),
      (error: unknown) => refuse(req, res, toProxyError(error)),
    );
  }

  /**
   * A request for an MCP endpoint: checked as a tool call is (Origin, then the key or token: MCP clients send
   * `Authorization: Bearer`), its body read as a tool call's is (size, media type, JSON), then served by the face:
   * Streamable HTTP at `…/mcp`, or the legacy HTTP+SSE transport's stream (`…/sse`) and messages (`…/messages`).
   * `base` is the endpoint's public path prefix (root path and mount), which the SSE stream tells its client.
   */
  function serveMcp(
    req: IncomingMessage,
    res: ServerResponse,
    face: McpFace,
    server: ToolTarget | undefined,
    route: McpRoute,
    base: string,
  ): void {
    const method = req.method;
    const allowed = route === "mcp" ? MCP_METHODS : route === "sse" ? "GET, OPTIONS" : "POST, OPTIONS";
    if (method === "OPTIONS") return cors.preflight(req, res, allowed);
    cors.answer(req, res);
    res.setHeader("Access-Control-Expose-Headers", MCP_EXPOSED_HEADERS);
    if (!allowed.split(", ").includes(method ?? "")) {
      const path = pathOf(req.url ?? "/");
      return refuse(req, res, new MethodNotAllowedError(method ?? "?", path, allowed.replace(", OPTIONS", "")));
    }
    if (!cors.mayCall(req)) return refuse(req, res, new OriginNotAllowedError());
    const serve = (): void => {
      if (route === "sse") return face.openSse(req, res, `${base}${SSE_MESSAGES_PATH}`);
      if (method !== "POST") return face.handle(req, res);
      readJsonBody(req, http.maxBodyBytes).then(
        (body) => (route === "mcp" ? face.handle(req, res, body) : face.postSseMessage(req, res, body)),
        (error: unknown) => refuse(req, res, toProxyError(error)),
      );
    };
    whenAllowed(req, res, authorize(req, server, true), serve);
  }

  /** Anything but a tool call, once allowed: 405 for a method a tool route does not take, else express. */
  function serveOther(
    req: IncomingMessage,
    res: ServerResponse,
    server: ToolTarget | undefined,
    toolName: string | undefined,
  ): void {
    const method = req.method;
    if (toolName !== undefined && isToolRoute(server!, toolName)) {
      const shared = MOUNT_GET_ROUTES.has(toolName.toLowerCase());
      if (!(shared && (method === "GET" || method === "HEAD"))) {
        const path = (req.url ?? "/").split("?")[0]!;
        return refuse(req, res, new MethodNotAllowedError(method ?? "?", path, shared ? "GET, HEAD, POST" : "POST"));
      }
    }
    app(req, res);
  }
}

/**
 * The MCP route a URL (below its mount) is for, if any: `/mcp` always; `/sse` for GET (and its preflight), and
 * `/messages` with a `sessionId` parameter, so that a tool named `sse` or `messages` keeps its POST route.
 */
function mcpRouteOf(url: string, req: IncomingMessage): McpRoute | undefined {
  // Every request passes here: a tool call ("/echo") leaves at the first character, without slicing its URL.
  const first = url.charCodeAt(1);
  if (first !== 109 /* m */ && first !== 115 /* s */) return undefined;
  const path = pathOf(url);
  if (path === MCP_PATH) return "mcp";
  if (path === SSE_PATH) {
    const method = req.method === "OPTIONS" ? req.headers["access-control-request-method"] : req.method;
    return method === "GET" ? "sse" : undefined;
  }
  if (path === SSE_MESSAGES_PATH) return /[?&]sessionId=/.test(url) ? "messages" : undefined;
  return undefined;
}

/** The route kind of a request that is no tool call (its facts), from its path below its mount. */
function kindOf(
  subUrl: string,
  toolName: string | undefined,
  server: ToolTarget | undefined,
  operation: boolean,
): RequestFacts["route"] {
  if (operation) return "operation";
  if (toolName !== undefined && server && isToolRoute(server, toolName) && !MOUNT_GET_ROUTES.has(toolName)) {
    return "tool";
  }
  return routeKindOf(subUrl);
}

/** "/mcp?x" → "/mcp"; a trailing slash dropped. */
function pathOf(url: string): string {
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** Whether a mount's sub-URL ("/resources/read?uri=…") is one of its operation routes (OPERATION_ROUTE_ROOTS). */
export function isOperationRoute(subUrl: string): boolean {
  const end = subUrl.slice(1).search(/[/?]/);
  return OPERATION_ROUTE_ROOTS.has(end === -1 ? subUrl.slice(1) : subUrl.slice(1, end + 1));
}

/**
 * Whether `name` is a tool route of `target`: a tool of its catalog, or, before the first tool list is known,
 * any name that is not a mount route.
 */
function isToolRoute(target: ToolTarget, name: string): boolean {
  return target.catalog ? target.catalog.byName.has(name) : !MOUNT_GET_ROUTES.has(name.toLowerCase());
}

/** What an OPTIONS request on a single-segment path of a mount is told. */
function methodsOf(target: ToolTarget, name: string): string {
  if (!isToolRoute(target, name)) return READ_ROUTE_METHODS;
  return MOUNT_GET_ROUTES.has(name.toLowerCase()) ? `GET, HEAD, ${TOOL_ROUTE_METHODS}` : TOOL_ROUTE_METHODS;
}
