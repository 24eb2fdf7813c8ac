import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  isInitializeRequest,
  WebStandardStreamableHTTPServerTransport,
  type Server,
} from "@modelcontextprotocol/server";
import type { Logger } from "../log/logger.js";

/** What every open session of an endpoint has, whatever its transport. */
export interface OpenSession {
  /** Which transport serves it: a session id of one kind is unknown to the other's routes. */
  readonly kind: "streamable" | "sse";
  readonly server: Server;
  /** Digest of the credentials that opened it: only they may use it (a session id alone is not a key). */
  readonly owner: Buffer;
  lastSeen: number;
}

export interface SessionTableOptions {
  /** Sessions open at once, of either transport; a new one beyond it is refused (503). */
  maxSessions: number;
  /** A session without a request this long is closed. */
  idleMs: number;
  logger: Logger;
}

/**
 * The sessions of one MCP endpoint (2025 Streamable HTTP and legacy HTTP+SSE alike): bounded in number (a new one
 * beyond the bound is refused, nothing evicted under a caller's feet), closed after `idleMs` without a request, and
 * bound to the credentials that opened them: another caller's `Authorization` finds no session, as an unknown id.
 */
export class SessionTable {
  readonly #sessions = new Map<string, OpenSession>();
  readonly #options: SessionTableOptions;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: SessionTableOptions) {
    this.#options = options;
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, Math.max(1_000, options.idleMs / 4)));
    this.#sweep.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The session `id` of this kind if the caller with `authorization` opened it, marked as used; else undefined. */
  use<S extends OpenSession>(id: string, kind: S["kind"], authorization: string | null | undefined): S | undefined {
    const session = this.#sessions.get(id);
    if (!session || session.kind !== kind || !timingSafeEqual(session.owner, ownerOf(authorization))) return undefined;
    session.lastSeen = Date.now();
    return session as S; // its kind says which transport it holds
  }

  /** The 503 answer when no session may be opened now; undefined when one may. */
  refusal(): Response | undefined {
    if (this.#sessions.size < this.#options.maxSessions) return undefined;
    this.#options.logger.warn({ sessions: this.#sessions.size }, "MCP endpoint: session limit reached");
    return respond(
      503,
      jsonRpcError(-32603, `Too many MCP sessions open (${this.#options.maxSessions}); try again later`),
      { "Retry-After": "5" },
    );
  }

  add(id: string, session: OpenSession): void {
    this.#sessions.set(id, session);
  }

  delete(id: string): void {
    this.#sessions.delete(id);
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
      if (session.lastSeen > cutoff) continue;
      this.#sessions.delete(id);
      this.#options.logger.debug({ kind: session.kind }, "MCP endpoint: closing an idle session");
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

interface StreamableSession extends OpenSession {
  readonly kind: "streamable";
  readonly transport: WebStandardStreamableHTTPServerTransport;
}

/**
 * The 2025-era Streamable HTTP sessions of one MCP endpoint: one SDK transport and one face server per
 * `Mcp-Session-Id`, opened by `initialize`, closed on DELETE, kept in the endpoint's SessionTable.
 */
export class LegacySessions {
  readonly #table: SessionTable;
  readonly #build: () => Server;

  constructor(options: { table: SessionTable; build: () => Server }) {
    this.#table = options.table;
    this.#build = options.build;
  }

  async handle(request: Request, parsedBody: unknown): Promise<Response> {
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#table.use<StreamableSession>(id, "streamable", request.headers.get("authorization"));
      if (!session) return respond(404, jsonRpcError(-32001, "Session not found: start a new one with initialize"));
      return session.transport.handleRequest(request, { parsedBody });
    }
    if (request.method !== "POST" || !isInitializeRequest(parsedBody)) {
      return respond(400, jsonRpcError(-32000, "Bad Request: an Mcp-Session-Id header is required (or initialize)"));
    }
    return this.#table.refusal() ?? this.#open(request, parsedBody);
  }

  async #open(request: Request, parsedBody: unknown): Promise<Response> {
    const server = this.#build();
    const owner = ownerOf(request.headers.get("authorization"));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const session: StreamableSession = { kind: "streamable", transport, server, owner, lastSeen: Date.now() };
        this.#table.add(id, session);
      },
      onsessionclosed: (id) => this.#table.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#table.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody });
  }
}

/** The caller's credentials, digested: the Authorization header (a key or a token), or none. */
export function ownerOf(authorization: string | null | undefined): Buffer {
  return createHash("sha256")
    .update(authorization ?? "")
    .digest();
}

/** A JSON-RPC error object without a request id, as the transport's own HTTP-level answers are. */
export function jsonRpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

export function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
