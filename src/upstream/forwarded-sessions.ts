import { EventEmitter } from "node:events";
import type { CallToolResult, Tool } from "@modelcontextprotocol/client";
import type { ForwardConfig, ServerConfig } from "../config/schema.js";
import {
  compileIdentityReader,
  type CallerIdentity,
  type IdentityReader,
  type IncomingHeaders,
} from "./caller-identity.js";
import { UpstreamConnection, type CallOptions, type UpstreamConnectionOptions } from "./connection.js";
import { IdentityPool, type PoolCounts } from "./identity-pool.js";
import type { RequestSender } from "./request.js";

export interface ForwardedSessionsOptions extends Omit<UpstreamConnectionOptions, "role"> {
  /** Names the upstream in messages, as the shared connection does. */
  who: string;
}

interface ForwardedEvents {
  /** A caller session listed the tools, and the list differs from the last one told. */
  tools: [tools: readonly Tool[]];
}

/**
 * The upstream sessions of one forwarding server (`forward`), one per caller identity: each its own transport
 * with its own headers (static headers, then the caller's), so on a 2025 session-bound upstream each identity has
 * its own `Mcp-Session-Id`, and on a sessionless 2026-07-28 one every request still carries its caller's headers.
 * Opened on an identity's first call, bounded and evicted by an IdentityPool, never shared between identities.
 *
 * A caller session is a connection of role `caller` (connection.ts): dialed once, redialed once after a loss, and
 * dropped when that fails; the identity's next call dials anew. Running the shared connection's retry-forever
 * loop for every past caller would keep sessions (and credentials) alive for people who have left.
 */
export class ForwardedSessions extends EventEmitter<ForwardedEvents> {
  readonly #options: ForwardedSessionsOptions;
  readonly #server: ServerConfig;
  readonly #read: IdentityReader;
  readonly #pool: IdentityPool<UpstreamConnection>;
  /** The last tool list told, serialized: a new session that lists the same tools changes nothing. */
  #lastTools = "";
  /** Names caller sessions in logs (a counter: a hash of the values could be tested against a guess). */
  #opened = 0;

  constructor(options: ForwardedSessionsOptions & { server: ServerConfig & { forward: ForwardConfig } }) {
    super();
    this.#options = options;
    const { forward } = options.server;
    // Caller sessions are checked by their calls; the optional active health check is for the shared connection.
    this.#server = { ...options.server, settings: { ...options.server.settings, healthCheckIntervalMs: 0 } };
    this.#read = compileIdentityReader(forward);
    this.#pool = new IdentityPool({
      maxSessions: forward.maxSessions,
      idleTimeoutMs: forward.sessionIdleTimeoutMs,
      who: options.who,
      isGone: (connection) => connection.state === "closed",
      close: async (connection, reason, drainMs) => {
        options.logger.debug({ reason }, "closing a caller's upstream session");
        await connection.close(drainMs);
      },
    });
  }

  /** The caller's identity for this server, read from the request's headers. */
  identityOf(headers: IncomingHeaders): CallerIdentity {
    return this.#read(headers);
  }

  /** Calls a tool on the caller's own session, opening it first when it has none. */
  callTool(
    identity: CallerIdentity,
    name: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallToolResult> {
    return this.#withSession(identity, (session) => session.callTool(name, args, options));
  }

  /** Any other request (resources, prompts, tasks), on the caller's own session: see UpstreamConnection.request. */
  request<T>(
    identity: CallerIdentity,
    operation: string,
    send: RequestSender<T>,
    options: CallOptions = {},
  ): Promise<T> {
    return this.#withSession(identity, (session) => session.request(operation, send, options));
  }

  /** Opens (or reuses) the caller's session so that its tool list is known; resolves with that list. */
  listTools(identity: CallerIdentity): Promise<readonly Tool[]> {
    return this.#withSession(identity, (session) => session.tools);
  }

  /** Runs `use` on the caller's own session (opened first when it has none), leased from the pool meanwhile. */
  async #withSession<T>(identity: CallerIdentity, use: (session: UpstreamConnection) => T | Promise<T>): Promise<T> {
    const lease = await this.#pool.acquire(identity.key, () => this.#open(identity));
    try {
      return await use(lease.member);
    } finally {
      lease.release();
    }
  }

  /** Counts only (never keys or values), for `/health`. */
  counts(): PoolCounts {
    return this.#pool.counts();
  }

  /** Closes every caller session, letting running calls finish for up to `drainMs` first. */
  close(drainMs = 0): Promise<void> {
    return this.#pool.close(drainMs);
  }

  async #open(identity: CallerIdentity): Promise<UpstreamConnection> {
    const session = ++this.#opened;
    const connection = new UpstreamConnection({
      ...this.#options,
      server: withCallerHeaders(this.#server, identity.headers),
      logger: this.#options.logger.child({ caller_session: session }),
      role: "caller",
    });
    connection.on("tools", (tools) => this.#toolsListed(tools));
    connection.on("state", (state) => {
      if (state === "closed") this.#pool.forget(connection);
    });
    this.#options.logger.debug(
      { caller_session: session, forwarded: identity.size },
      "opening a caller's upstream session",
    );
    connection.start();
    try {
      await connection.opened();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  #toolsListed(tools: readonly Tool[]): void {
    const serialized = JSON.stringify(tools);
    if (serialized === this.#lastTools) return;
    this.#lastTools = serialized;
    this.emit("tools", tools);
  }
}

/** The server's static headers, then the caller's, a caller's header replacing a static one of any case. */
function withCallerHeaders(server: ServerConfig, forwarded: Readonly<Record<string, string>>): ServerConfig {
  const transport = server.transport;
  if (transport.type === "stdio") return server; // refused at load: stdio servers have one identity
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(transport.headers)) {
    if (forwarded[name.toLowerCase()] === undefined) headers[name] = value;
  }
  return { ...server, transport: { ...transport, headers: { ...headers, ...forwarded } } };
}
