import { EventEmitter } from "node:events";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ToolListChangedNotificationSchema, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ServerConfig } from "../config/schema.js";
import { ClientClosedRequestError, UpstreamUnavailableError, type ProxyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { classifyError, formatSeconds } from "./classify-error.js";
import { dial, type Dialed } from "./dial.js";
import { HealthTracker, type ConnectionState, type HealthSnapshot } from "./health.js";
import { ConcurrencyLimiter } from "./limiter.js";
import { connectWithRetry } from "./retry-loop.js";
import { listAllTools } from "./list-tools.js";
import { endSession, openSession, type Session } from "./session.js";
import { stderrLogger } from "./stderr-log.js";
import { callTool, type CallContext, type CallOptions } from "./tool-call.js";
import { waitForReady } from "./wait-for-state.js";

export type { CallOptions } from "./tool-call.js";
import { describeTransport } from "./transports/create-transport.js";
import { ProcessGroupStdioTransport } from "./transports/stdio.js";

export interface UpstreamServerInfo {
  name: string;
  version: string;
  title?: string;
  instructions?: string;
}

export interface HealthReport {
  healthy: boolean;
  message: string;
  snapshot: HealthSnapshot;
}

interface UpstreamEvents {
  /** The tool list was (re)loaded: after every (re)connect and on `tools/list_changed`. */
  tools: [tools: readonly Tool[]];
  state: [state: ConnectionState];
}

export interface UpstreamConnectionOptions {
  server: ServerConfig;
  /** Environment a stdio server inherits before its own values. */
  baseEnv: Readonly<Record<string, string>>;
  logger: Logger;
  clientInfo: { name: string; version: string };
}

/**
 * One upstream MCP server: dials it, retries with exponential backoff,
 * reconnects on every kind of loss, keeps passive health, and runs calls that
 * always end (timeout, cap or caller gone) within a concurrency limit. The
 * only class that holds an SDK Client.
 */
export class UpstreamConnection extends EventEmitter<UpstreamEvents> {
  readonly label: string;
  readonly #options: UpstreamConnectionOptions;
  readonly #log: Logger;
  readonly #health = new HealthTracker();
  readonly #lifetime = new AbortController();
  readonly #limiter: ConcurrencyLimiter;
  readonly #onStderrLine: (line: string) => void;
  /** What a call may do to this connection (see tool-call.ts). */
  readonly #callContext: CallContext;
  #session: Session | undefined;
  /** The client of an attempt still in progress, so close() can end it too. */
  #attemptClient: Client | undefined;
  #connecting: Promise<void> | undefined;
  #everConnected = false;
  #nextAttemptAt = 0;
  #tools: readonly Tool[] = [];
  #serverInfo: UpstreamServerInfo | undefined;

  constructor(options: UpstreamConnectionOptions) {
    super();
    this.#options = options;
    this.label = describeTransport(options.server.transport);
    this.#log = options.logger.child({ upstream: options.server.name || this.label });
    this.#limiter = new ConcurrencyLimiter(options.server.settings.maxConcurrency, options.server.settings.maxQueue);
    this.#onStderrLine = stderrLogger(this.#log);
    this.#callContext = {
      label: this.label,
      settings: options.server.settings,
      log: this.#log,
      session: (operation) => this.#requireSession(operation),
      lose: (client, reason) => this.#lose(client, reason),
      waitUntilReady: (timeoutMs, operation, signal) => this.#waitUntilReady(timeoutMs, operation, signal),
      classify: (error, operation, timeoutMs) => this.#classify(error, operation, timeoutMs),
      succeeded: () => this.#health.recordSuccess(),
      failed: (message) => this.#health.recordFailure(message),
    };
  }

  get state(): ConnectionState {
    return this.#health.state;
  }

  get tools(): readonly Tool[] {
    return this.#tools;
  }

  /** The server's tool timeout; a caller may ask for less, never for more. */
  get toolTimeoutMs(): number {
    return this.#options.server.settings.toolTimeoutMs;
  }

  get serverInfo(): UpstreamServerInfo | undefined {
    return this.#serverInfo;
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (this.#connecting || this.#lifetime.signal.aborted) return;
    this.#connecting = this.#connectWithRetry()
      .catch((error: unknown) => {
        if (!this.#lifetime.signal.aborted) this.#log.error({ err: error }, "connect loop ended unexpectedly");
      })
      .finally(() => {
        this.#connecting = undefined;
      });
  }

  async #connectWithRetry(): Promise<void> {
    const { server, baseEnv, clientInfo } = this.#options;
    const dialed = await connectWithRetry({
      settings: server.settings,
      label: this.label,
      log: this.#log,
      signal: this.#lifetime.signal,
      attempt: () =>
        dial({
          server,
          baseEnv,
          clientInfo,
          onStderrLine: this.#onStderrLine,
          lifetime: this.#lifetime.signal,
          onClose: (client, transport) => this.#onClosed(client, transport),
          onError: (client, transport, error) => this.#onTransportError(client, transport, error),
          onAttempt: (client) => (this.#attemptClient = client),
        }),
      describe: (error) => this.#classify(error, "connect").message,
      onFailure: (reason, nextAttemptAt) => {
        this.#nextAttemptAt = nextAttemptAt;
        this.#health.recordFailure(reason);
      },
      onDown: () => this.#setState("down"),
    });
    this.#established(dialed);
  }

  #established({ client, transport, tools, warnings }: Dialed): void {
    for (const warning of warnings) this.#log.warn(warning);
    const settings = this.#options.server.settings;
    const session = openSession({
      client,
      transport,
      settings,
      remote: this.#options.server.transport.type !== "stdio",
      onSilent: () => this.#checkSilent(client),
      // Optional active health: a ping every interval, so a dead upstream is noticed without a call.
      onActiveCheck: () =>
        void this.checkHealth(Math.min(settings.connectionTimeoutMs, settings.healthCheckIntervalMs)).then((report) => {
          if (!report.healthy) this.#log.warn({ reason: report.message }, "active health check failed");
        }),
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#refreshTools(client));
    this.#session = session;
    const version = client.getServerVersion();
    this.#serverInfo = version && {
      name: version.name,
      version: version.version,
      ...(version.title === undefined ? {} : { title: version.title }),
      ...(client.getInstructions() === undefined ? {} : { instructions: client.getInstructions() }),
    };
    if (this.#everConnected) this.#health.recordReconnect();
    this.#everConnected = true;
    this.#health.recordSuccess();
    this.#tools = tools;
    this.#setState("ready");
    this.#log.info(
      { server: version?.name, version: version?.version, tools: tools.length },
      `connected to ${this.label}`,
    );
    this.emit("tools", tools);
  }

  async #refreshTools(client: Client): Promise<void> {
    if (client !== this.#session?.client) return;
    const timeoutMs = this.#options.server.settings.connectionTimeoutMs;
    try {
      const { tools, warnings } = await listAllTools(client, { timeout: timeoutMs });
      if (client !== this.#session?.client) return;
      for (const warning of warnings) this.#log.warn(warning);
      this.#tools = tools;
      this.#log.info({ tools: tools.length }, "tool list changed upstream; reloaded");
      this.emit("tools", tools);
    } catch (error) {
      this.#log.warn({ error: this.#classify(error, "tools/list").message }, "could not reload the tool list");
    }
  }

  /** Nothing heard for sse_read_timeout while calls wait: a ping decides whether the upstream is still there. */
  async #checkSilent(client: Client): Promise<void> {
    const { sseReadTimeoutMs, connectionTimeoutMs } = this.#options.server.settings;
    try {
      await client.ping({ timeout: Math.min(sseReadTimeoutMs, connectionTimeoutMs) });
    } catch {
      this.#lose(
        client,
        `nothing heard from the upstream within sse_read_timeout (${formatSeconds(sseReadTimeoutMs)})`,
      );
    }
  }

  #onTransportError(client: Client, transport: Transport, error: Error): void {
    this.#log.debug({ err: error }, "transport error");
    // The SDK's EventSource would reconnect by itself into a new session without `initialize`
    // (typescript-sdk #510): drop the client instead, and dial again properly.
    if (transport instanceof SSEClientTransport) this.#lose(client, `the SSE stream failed (${error.message})`);
  }

  #onClosed(client: Client, transport: Transport): void {
    if (client !== this.#session?.client) return; // an attempt never established, or a session already dropped
    this.#detach(
      transport instanceof ProcessGroupStdioTransport && transport.exitDescription
        ? `server process ${transport.exitDescription}`
        : "connection closed",
    );
  }

  /** For failures that do not close the transport (HTTP): drop the session now, close its client behind. */
  #lose(client: Client, reason: string): void {
    if (client !== this.#session?.client) return;
    this.#detach(reason);
    void client.close().catch(() => undefined);
  }

  /** The session is gone: from here on calls wait for (or are refused until) the next one. */
  #detach(reason: string): void {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    endSession(session);
    if (this.#lifetime.signal.aborted) return;
    this.#health.recordFailure(reason);
    this.#setState("reconnecting");
    this.#log.warn({ reason }, `lost the connection to ${this.label}; reconnecting`);
    this.start();
  }

  #setState(state: ConnectionState): void {
    if (this.#health.state === state) return;
    this.#health.state = state;
    this.emit("state", state);
  }

  #retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.#nextAttemptAt - Date.now()) / 1000));
  }

  #classify(error: unknown, operation: string, timeoutMs?: number): ProxyError {
    return classifyError(error, {
      upstream: `upstream "${this.label}"`,
      operation,
      retryAfterSeconds: this.#retryAfterSeconds(),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }

  /** Throws a 503-mapped error unless the upstream is connected. */
  assertReady(operation: string): void {
    this.#requireSession(operation);
  }

  #requireSession(operation: string): Session {
    const session = this.#session;
    if (session && this.state === "ready") return session;
    throw this.#unavailable(operation);
  }

  /** The 503 for a call that finds no connection: what state we are in and the last error. */
  #unavailable(operation: string): UpstreamUnavailableError {
    const lastError = this.#health.snapshot().last_error;
    return new UpstreamUnavailableError(
      `upstream "${this.label}" is ${this.state}, cannot run ${operation}${lastError ? ` (last error: ${lastError})` : ""}`,
      this.#retryAfterSeconds(),
    );
  }

  /** Resolves once connected again; rejects (503) if that takes longer than `timeoutMs`. */
  #waitUntilReady(timeoutMs: number, operation: string, signal?: AbortSignal): Promise<void> {
    if (this.#session && this.state === "ready") return Promise.resolve();
    return waitForReady(
      this,
      timeoutMs,
      () => this.#unavailable(operation),
      () => new ClientClosedRequestError(),
      signal,
    );
  }

  /** Calls a tool. Resolves with the raw MCP result (isError included); rejects with a ProxyError. */
  async callTool(name: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    const operation = `tool "${name}"`;
    this.#requireSession(operation); // fail fast: no point queueing for an upstream that is not there
    let release = this.#limiter.tryAcquire();
    if (!release) {
      try {
        release = await this.#limiter.acquire(options.controller?.signal);
      } catch (error) {
        if (options.controller?.signal.aborted) throw new ClientClosedRequestError();
        throw new UpstreamUnavailableError(
          `upstream "${this.label}" is busy (${(error as Error).message}); try again shortly`,
          1,
        );
      }
    }
    try {
      return await callTool(this.#callContext, name, args, options);
    } finally {
      release();
    }
  }

  /** On-demand health: an MCP ping within `timeoutMs` when connected. */
  async checkHealth(timeoutMs: number): Promise<HealthReport> {
    const session = this.#session;
    if (!session || this.state !== "ready") {
      const snapshot = this.#health.snapshot();
      return {
        healthy: false,
        message: `upstream is ${this.state}${snapshot.last_error ? `: ${snapshot.last_error}` : ""}`,
        snapshot,
      };
    }
    try {
      await session.client.ping({ timeout: timeoutMs });
      this.#health.recordSuccess();
      return { healthy: true, message: "connection OK", snapshot: this.#health.snapshot() };
    } catch (error) {
      const proxyError = this.#classify(error, "ping", timeoutMs);
      this.#health.recordFailure(proxyError.message);
      if (proxyError instanceof UpstreamUnavailableError) this.#lose(session.client, proxyError.message);
      return { healthy: false, message: proxyError.message, snapshot: this.#health.snapshot() };
    }
  }

  /**
   * Closes the connection for good (a stdio server's whole process group ends), after letting calls still
   * running finish for up to `drainMs`.
   */
  async close(drainMs = 0): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    // Calls already running may finish first (hot reload replaces or removes a server this way).
    for (const deadline = Date.now() + drainMs; this.#limiter.active > 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#lifetime.abort();
    const session = this.#session;
    this.#detach("closed");
    this.#setState("closed");
    const clients = [session?.client, this.#attemptClient].filter((c): c is Client => c !== undefined);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await this.#connecting;
  }
}
