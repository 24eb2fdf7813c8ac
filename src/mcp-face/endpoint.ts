import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, isLegacyRequest, type McpHandlerRequestOptions } from "@modelcontextprotocol/server";
import type { Logger } from "../log/logger.js";
import { buildFaceServer } from "./face-server.js";
import type { FaceScope } from "./scope.js";
import { LegacySessions, jsonRpcError } from "./sessions.js";

export interface McpEndpointOptions {
  scope: FaceScope;
  logger: Logger;
  /** 2025 sessions open at once on this endpoint; a new one beyond it is refused (503). */
  maxSessions: number;
  /** A 2025 session unused this long is closed. */
  sessionIdleMs: number;
}

/**
 * One MCP endpoint over Streamable HTTP, serving both protocol eras from one URL: a 2026-07-28 request (it carries
 * the per-request `_meta` envelope) is served by the SDK's per-request handler (no session, no state); a 2025
 * request by a session of ours (`Mcp-Session-Id`), which a 2025 client needs for the GET stream (list_changed),
 * server-to-client requests and DELETE. The SDK's own classifier (`isLegacyRequest`) decides, so the two legs can
 * never disagree about a request.
 *
 * The front pipeline (src/http/pipeline.ts) has checked Host, Origin, the key and the body (size, media type, JSON)
 * before a request gets here.
 */
export class McpEndpoint {
  readonly #modern;
  readonly #sessions: LegacySessions;
  readonly #node;
  readonly #log: Logger;

  constructor(options: McpEndpointOptions) {
    const { scope, logger } = options;
    this.#log = logger;
    const onerror = (error: Error): void => logger.debug({ err: error }, "MCP endpoint: a request failed");
    this.#modern = createMcpHandler(() => buildFaceServer(scope), { legacy: "reject", onerror });
    this.#sessions = new LegacySessions({
      build: () => buildFaceServer(scope),
      maxSessions: options.maxSessions,
      idleMs: options.sessionIdleMs,
      logger,
    });
    this.#node = toNodeHandler(
      {
        fetch: async (request: Request, requestOptions?: McpHandlerRequestOptions) => {
          const parsedBody = requestOptions?.parsedBody;
          if (await isLegacyRequest(request, parsedBody)) return this.#sessions.handle(request, parsedBody);
          return this.#modern.fetch(request, requestOptions);
        },
      },
      { onerror },
    );
  }

  /** Serves one HTTP request (POST with its parsed JSON body, GET or DELETE without). */
  handle(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): void {
    this.#node(req, res, parsedBody).catch((error: unknown) => {
      this.#log.warn({ err: error }, "MCP endpoint: could not answer a request");
      if (!res.headersSent) {
        const body = JSON.stringify(jsonRpcError(-32603, "Internal error in the proxy"));
        res.writeHead(500, { "Content-Type": "application/json" }).end(body);
      } else res.destroy();
    });
  }

  /** The upstream's lists changed (or a server came or went): every client that listens is told. */
  changed(): void {
    this.#modern.notify.toolsChanged();
    this.#modern.notify.promptsChanged();
    this.#modern.notify.resourcesChanged();
    this.#sessions.changed();
  }

  /** Sessions open now (for /health and tests). */
  get sessions(): number {
    return this.#sessions.size;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#modern.close(), this.#sessions.close()]);
  }
}
