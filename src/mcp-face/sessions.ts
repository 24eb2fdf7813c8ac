import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  isInitializeRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type Server,
} from "@modelcontextprotocol/server";
import type { IncomingMessage } from "node:http";
import { identityOf } from "../auth/index.js";
import type { Logger } from "../log/logger.js";

/** What every open session of an endpoint has, whatever its transport. */
export interface OpenSession {
  /** Which transport serves it: a session id of one kind is unknown to the other's routes. */
  readonly kind: "streamable" | "sse";
  readonly server: Server;
  /** Digest of the credentials that opened it: only they may use it (a session id alone is not a key). */
  readonly owner: Buffer;
  /** When its last request came or its last answer ended. */
  lastSeen: number;
  /** Answers still being written (a running call's stream, the GET stream): while any is, it is not idle. */
  open: number;
}

export interface SessionTableOptions {
  /** Sessions open at once, of either transport; a new one beyond it is refused (503). */
  maxSessions: number;
  /** A session without a request this long, and no answer still being written, is closed. */
  idleMs: number;
  logger: Logger;
  /** A session left the table (closed, idle, DELETE, the endpoint closing). */
  onRemoved?: (id: string) => void;
}

/**
 * The sessions of one MCP endpoint (2025 Streamable HTTP and legacy HTTP+SSE alike): bounded in number (a new one
 * beyond the bound is refused, nothing evicted under a caller's feet), closed after `idleMs` without a request, and
 * bound to the caller who opened them (callerOf): another caller finds no session, as an unknown id.
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

  /** The session `id` of this kind if `caller` (callerOf) opened it, marked as used; else undefined. */
  use<S extends OpenSession>(id: string, kind: S["kind"], caller: string): S | undefined {
    const session = this.#sessions.get(id);
    if (!session || session.kind !== kind || !timingSafeEqual(session.owner, ownerOf(caller))) return undefined;
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

  /**
   * An answer of session `id` is being written (a running call's stream, the GET stream): until the returned release
   * is called (its response closed), the session is not idle, and its idle time starts then. A session whose call runs
   * longer than the idle timeout (a tool may run up to max_tool_timeout) must not be closed under it. Counted from the
   * Node response (no wrapping of the answer's stream: that cost every 2025 call a second web stream).
   */
  hold(id: string): (() => void) | undefined {
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    session.open++;
    return () => {
      session.open--;
      session.lastSeen = Date.now();
    };
  }

  get(id: string): OpenSession | undefined {
    return this.#sessions.get(id);
  }

  delete(id: string): void {
    if (this.#sessions.delete(id)) this.#options.onRemoved?.(id);
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
      this.delete(id);
      this.#options.logger.debug({ kind: session.kind }, "MCP endpoint: closing an idle session");
      void session.server.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const open = [...this.#sessions.values()];
    for (const id of [...this.#sessions.keys()]) this.delete(id);
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

  /** Serves a 2025 request of `caller` (callerOf: who the front pipeline let in). */
  async handle(request: Request, parsedBody: unknown, caller: string): Promise<Response> {
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#table.use<StreamableSession>(id, "streamable", caller);
      if (!session) return respond(404, jsonRpcError(-32001, "Session not found: start a new one with initialize"));
      return session.transport.handleRequest(request, { parsedBody, authInfo: callerInfo(caller) });
    }
    if (request.method !== "POST" || !isInitializeRequest(parsedBody)) {
      return respond(400, jsonRpcError(-32000, "Bad Request: an Mcp-Session-Id header is required (or initialize)"));
    }
    return this.#table.refusal() ?? this.#open(request, parsedBody, caller);
  }

  async #open(request: Request, parsedBody: unknown, caller: string): Promise<Response> {
    const server = this.#build();
    const owner = ownerOf(caller);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const session: StreamableSession = {
          kind: "streamable",
          transport,
          server,
          owner,
          lastSeen: Date.now(),
          open: 0,
        };
        this.#table.add(id, session);
      },
      onsessionclosed: (id) => this.#table.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#table.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody, authInfo: callerInfo(caller) });
  }
}

/**
 * Who is calling, as the front pipeline verified it: a session is theirs alone. A verified user (Open WebUI's user
 * header, an OIDC token) is that user, whatever key came beside it and however often the token is re-signed; without
 * one, the Authorization header (the key) is all there is to tell callers apart. (Open WebUI sends one shared key for
 * every user: keyed by the header alone, one user's session id would serve another.)
 */
export function callerOf(req: IncomingMessage): string {
  const identity = identityOf(req);
  if (identity) return `user\0${identity.source}\0${identity.subject}`;
  return `authorization\0${req.headers.authorization ?? ""}`;
}

/**
 * A caller (callerOf) as the SDK's authInfo, which it hands every request handler (`ctx.http.authInfo`): how the
 * input relay knows who a round is from. Not a credential: `token` stays empty.
 */
export function callerInfo(caller: string): AuthInfo {
  return { token: "", clientId: caller, scopes: [] };
}

/** A caller (callerOf), digested: no credential is kept in memory longer than its request. */
export function ownerOf(caller: string): Buffer {
  return createHash("sha256").update(caller).digest();
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
