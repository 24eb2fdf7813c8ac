import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  isLegacyRequest,
  type AuthInfo,
  type McpHandlerRequestOptions,
  type Server,
} from "@modelcontextprotocol/server";
import type { Logger } from "../log/logger.js";
import { buildFaceServer } from "./face-server.js";
import { InputRelay } from "./input-relay.js";
import { ResourceWatchers } from "./subscriptions.js";
import { whenKnown, type FaceScope, type FaceSource } from "./scope.js";
import { LegacySse } from "./legacy-sse.js";
import { LegacySessions, SessionTable, callerInfo, callerOf, jsonRpcError } from "./sessions.js";

export interface McpEndpointOptions {
  scope: FaceScope;
  logger: Logger;
  /** Sessions (2025 Streamable HTTP and legacy SSE together) open at once on this endpoint; beyond it 503. */
  maxSessions: number;
  /** A session unused this long is closed. */
  sessionIdleMs: number;
}

/**
 * One MCP endpoint over Streamable HTTP, serving both protocol eras from one URL: a 2026-07-28 request (it carries
 * the per-request `_meta` envelope) is served by the SDK's per-request handler (no session, no state); a 2025
 * request by a session of ours (`Mcp-Session-Id`), which a 2025 client needs for the GET stream (list_changed),
 * server-to-client requests and DELETE. The SDK's own classifier (`isLegacyRequest`) decides, so the two legs can
 * never disagree about a request. Clients older still use the legacy HTTP+SSE transport beside it (legacy-sse.ts).
 *
 * The front pipeline (src/http/pipeline.ts) has checked Host, Origin, the key and the body (size, media type, JSON)
 * before a request gets here.
 */
export class McpEndpoint {
  readonly #modern;
  /** Calls whose upstream asked their client for input, between rounds (shared by both eras' servers). */
  readonly #relay = new InputRelay();
  /** Which 2025 sessions watch which resources. */
  readonly #watchers = new ResourceWatchers();
  readonly #table: SessionTable;
  readonly #sessions: LegacySessions;
  readonly #sse: LegacySse;
  readonly #node;
  readonly #log: Logger;
  readonly #scope: FaceScope;

  constructor(options: McpEndpointOptions) {
    const { scope, logger } = options;
    this.#scope = scope;
    this.#log = logger;
    const onerror = (error: Error): void => logger.debug({ err: error }, "MCP endpoint: a request failed");
    this.#modern = createMcpHandler(() => buildFaceServer(scope, this.#relay, this.#watchers), {
      legacy: "reject",
      onerror,
    });
    this.#table = new SessionTable({
      maxSessions: options.maxSessions,
      idleMs: options.sessionIdleMs,
      logger,
      onRemoved: (id) => this.#watchers.drop(id),
    });
    // Sessions hold the low-level Server (what their transports connect); the McpServer wrapper is for the 2026 entry.
    const build = (): Server => buildFaceServer(scope, this.#relay, this.#watchers).server;
    this.#sessions = new LegacySessions({ table: this.#table, build });
    this.#sse = new LegacySse({ table: this.#table, build, logger });
    this.#node = toNodeHandler(
      {
        fetch: async (request: Request, requestOptions?: McpHandlerRequestOptions) => {
          const parsedBody = requestOptions?.parsedBody;
          const waiting = whenKnown(scope);
          if (waiting) await waiting;
          if (await isLegacyRequest(request, parsedBody)) {
            return this.#sessions.handle(request, parsedBody, requestOptions?.authInfo?.clientId ?? "");
          }
          return this.#modern.fetch(request, requestOptions);
        },
      },
      { onerror },
    );
  }

  /** Serves one HTTP request (POST with its parsed JSON body, GET or DELETE without). */
  handle(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): void {
    admit(req);
    const session = req.headers["mcp-session-id"];
    const release = typeof session === "string" ? this.#table.hold(session) : undefined;
    if (release) res.once("close", release);
    this.#node(req, res, parsedBody).catch((error: unknown) => this.#failed(res, error));
  }

  /** Legacy HTTP+SSE, GET: opens a session whose client will POST to `messagesPath` (the public path). */
  openSse(req: IncomingMessage, res: ServerResponse, messagesPath: string): void {
    admit(req);
    const waiting = whenKnown(this.#scope);
    (waiting
      ? waiting.then(() => this.#sse.open(req, res, messagesPath))
      : this.#sse.open(req, res, messagesPath)
    ).catch((error: unknown) => this.#failed(res, error));
  }

  /** Legacy HTTP+SSE, POST: one message for the session its `sessionId` parameter names. */
  postSseMessage(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): void {
    admit(req);
    this.#sse.post(req, res, parsedBody).catch((error: unknown) => this.#failed(res, error));
  }

  #failed(res: ServerResponse, error: unknown): void {
    this.#log.warn({ err: error }, "MCP endpoint: could not answer a request");
    if (!res.headersSent) {
      const body = JSON.stringify(jsonRpcError(-32603, "Internal error in the proxy"));
      res.writeHead(500, { "Content-Type": "application/json" }).end(body);
    } else res.destroy();
  }

  /** The upstream's lists changed (or a server came or went): every client that listens is told. */
  changed(): void {
    this.#modern.notify.toolsChanged();
    this.#modern.notify.promptsChanged();
    this.#modern.notify.resourcesChanged();
    this.#table.changed();
  }

  /** A resource of `source` changed upstream: the sessions watching it are told (and 2026 listeners, by the SDK). */
  resourceUpdated(source: FaceSource, uri: string): void {
    this.#modern.notify.resourceUpdated(uri);
    for (const id of this.#watchers.watchersOf(source, uri)) {
      this.#table
        .get(id)
        ?.server.sendResourceUpdated({ uri })
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#relay.close();
    await Promise.allSettled([this.#modern.close(), this.#table.close()]);
  }
}

/**
 * Tells the SDK who the front pipeline let in: its Node bridge and the SSE transport pass `req.auth` on as the
 * request's authInfo, which the sessions and the input relay read (callerInfo).
 */
function admit(req: IncomingMessage): void {
  (req as IncomingMessage & { auth?: AuthInfo }).auth = callerInfo(callerOf(req));
}
