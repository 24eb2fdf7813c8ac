import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  isInitializeRequest,
  WebStandardStreamableHTTPServerTransport,
  type Server,
} from "@modelcontextprotocol/server";
import type { Logger } from "../log/logger.js";

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  /** Digest of the caller who opened it: only they may use it (a session id alone is not a key). */
  readonly owner: Buffer;
  /** When its last request came or its last answer ended. */
  lastSeen: number;
  /** Answers still being written (a running call's stream, the GET stream): while any is, it is not idle. */
  open: number;
}

export interface LegacySessionsOptions {
  /** A fresh MCP server for a new session. */
  build: () => Server;
  maxSessions: number;
  idleMs: number;
  logger: Logger;
}

/**
 * The 2025-era sessions of one MCP endpoint: one SDK transport and one face server per `Mcp-Session-Id`, opened by
 * `initialize`, bounded in number (a new one beyond the bound is refused: 503, nothing evicted under a caller's
 * feet), closed after `idleMs` without a request or on DELETE, and bound to the caller who opened them (McpEndpoint
 * says who): a request of another caller is told the session does not exist (404), as an unknown id is.
 */
export class LegacySessions {
  readonly #sessions = new Map<string, Session>();
  readonly #options: LegacySessionsOptions;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: LegacySessionsOptions) {
    this.#options = options;
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, Math.max(1_000, options.idleMs / 4)));
    this.#sweep.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Serves a 2025 request of `caller` (who the front pipeline let in: see McpEndpoint). */
  async handle(request: Request, parsedBody: unknown, caller: string): Promise<Response> {
    const owner = digest(caller);
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#sessions.get(id);
      if (!session || !sameOwner(session.owner, owner)) {
        return respond(404, jsonRpcError(-32001, "Session not found: start a new one with initialize"));
      }
      session.lastSeen = Date.now();
      return watched(session, await session.transport.handleRequest(request, { parsedBody }));
    }
    if (request.method !== "POST" || !isInitializeRequest(parsedBody)) {
      return respond(400, jsonRpcError(-32000, "Bad Request: an Mcp-Session-Id header is required (or initialize)"));
    }
    if (this.#sessions.size >= this.#options.maxSessions) {
      this.#options.logger.warn({ sessions: this.#sessions.size }, "MCP endpoint: session limit reached");
      return respond(
        503,
        jsonRpcError(-32603, `Too many MCP sessions open (${this.#options.maxSessions}); try again later`),
        { "Retry-After": "5" },
      );
    }
    return this.#open(request, parsedBody, owner);
  }

  async #open(request: Request, parsedBody: unknown, owner: Buffer): Promise<Response> {
    const server = this.#options.build();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { transport, server, owner, lastSeen: Date.now(), open: 0 });
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody });
  }

  /** Tells every session's client that the lists changed (those it declared). */
  changed(): void {
    for (const { server } of this.#sessions.values()) {
      const declared = server.getCapabilities();
      const sends = [
        server.sendToolListChanged(),
        declared.prompts ? server.sendPromptListChanged() : undefined,
        declared.resources ? server.sendResourceListChanged() : undefined,
      ];
      for (const sent of sends) sent?.catch(() => undefined);
    }
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#options.idleMs;
    for (const [id, session] of this.#sessions) {
      if (session.open > 0 || session.lastSeen > cutoff) continue;
      this.#sessions.delete(id);
      this.#options.logger.debug("MCP endpoint: closing an idle session");
      void session.server.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const open = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(open.map((session) => session.server.close()));
  }
}

/**
 * The answer, counted as open on its session until its body ends or the client drops it: a session whose call runs
 * longer than the idle timeout (a tool may run up to max_tool_timeout, 30 min by default, as long as the idle
 * timeout) must not be closed under it, and its idle time starts when the answer ends.
 */
function watched(session: Session, response: Response): Response {
  const body = response.body;
  if (!body) return response;
  session.open++;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    session.open--;
    session.lastSeen = Date.now();
  };
  const reader = body.getReader();
  const counted = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The caller, digested: no credential is kept in memory longer than its request. */
function digest(caller: string): Buffer {
  return createHash("sha256").update(caller).digest();
}

function sameOwner(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}

/** A JSON-RPC error object without a request id, as the transport's own HTTP-level answers are. */
export function jsonRpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
