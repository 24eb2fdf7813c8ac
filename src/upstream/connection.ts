import { EventEmitter } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  CallToolResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import pRetry, { AbortError } from "p-retry";
import type { ServerConfig } from "../config/schema.js";
import { ClientClosedRequestError, UpstreamUnavailableError, type ProxyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { classifyError } from "./classify-error.js";
import { HealthTracker, type ConnectionState, type HealthSnapshot } from "./health.js";
import { listAllTools } from "./list-tools.js";
import { createTransport, describeTransport } from "./transports/create-transport.js";
import { ProcessGroupStdioTransport } from "./transports/stdio.js";

export interface UpstreamServerInfo {
  name: string;
  version: string;
  title?: string;
  instructions?: string;
}

export interface CallOptions {
  /** Aborted when the caller goes away; the upstream call is then cancelled. */
  signal?: AbortSignal;
  /** Overrides the server's tool timeout for this call. */
  timeoutMs?: number;
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
 * One upstream MCP server: dials it (bounded by the connection timeout),
 * retries with exponential backoff, reconnects when the connection is lost,
 * keeps passive health, and offers calls that always end (timeout or signal).
 * The only class that holds an SDK Client.
 */
export class UpstreamConnection extends EventEmitter<UpstreamEvents> {
  readonly label: string;
  readonly #options: UpstreamConnectionOptions;
  readonly #log: Logger;
  readonly #health = new HealthTracker();
  readonly #lifetime = new AbortController();
  #client: Client | undefined;
  /** The client of an attempt still in progress, so close() can end it too. */
  #attemptClient: Client | undefined;
  #connecting: Promise<void> | undefined;
  #everConnected = false;
  #nextAttemptAt = 0;
  #lossReason: string | undefined;
  #tools: readonly Tool[] = [];
  #activeCheck: NodeJS.Timeout | undefined;
  #serverInfo: UpstreamServerInfo | undefined;

  constructor(options: UpstreamConnectionOptions) {
    super();
    this.#options = options;
    this.label = describeTransport(options.server.transport);
    this.#log = options.logger.child({ upstream: options.server.name || this.label });
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
    const settings = this.#options.server.settings;
    const limit = settings.retryAttempts < 0 ? "∞" : String(settings.retryAttempts);
    await pRetry(
      async (attempt) => {
        this.#log.info({ attempt: `${attempt}/${limit}` }, `connecting to ${this.label}`);
        await this.#connectOnce();
      },
      {
        // Never give up: past `retryAttempts` the server is reported down and retried at the capped pace.
        retries: Infinity,
        factor: settings.backoffFactor,
        minTimeout: settings.retryDelayMs,
        maxTimeout: settings.maxRetryDelayMs,
        randomize: false,
        signal: this.#lifetime.signal,
        onFailedAttempt: ({ error, attemptNumber }) => {
          const waitMs = Math.min(
            settings.retryDelayMs * settings.backoffFactor ** (attemptNumber - 1),
            settings.maxRetryDelayMs,
          );
          this.#nextAttemptAt = Date.now() + waitMs;
          const reason = this.#classify(error, "connect").message;
          this.#health.recordFailure(reason);
          this.#log.warn(
            { attempt: `${attemptNumber}/${limit}`, error: reason, retry_in_s: waitMs / 1000 },
            `connection attempt to ${this.label} failed`,
          );
          if (settings.retryAttempts >= 0 && attemptNumber >= settings.retryAttempts && this.state !== "down") {
            this.#setState("down");
            this.#log.error(
              { attempts: attemptNumber, retry_every_s: settings.maxRetryDelayMs / 1000 },
              `${this.label} is down; still retrying in the background`,
            );
          }
        },
      },
    );
  }

  async #connectOnce(): Promise<void> {
    const { server, baseEnv, clientInfo } = this.#options;
    const timeoutMs = server.settings.connectionTimeoutMs;
    const transport = createTransport(server.transport, {
      baseEnv,
      onStderrLine: (line) => this.#log.info({ stream: "stderr" }, line),
    });
    const client = new Client(clientInfo, { capabilities: {} });
    client.onerror = (error) => this.#log.debug({ err: error }, "transport error");
    client.onclose = () => this.#onClosed(client, transport);
    this.#attemptClient = client;
    const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#lifetime.signal]);
    try {
      // connect() bounds only `initialize`; dialing (SSE's GET, a spawn) is bounded by the race.
      await raceSignal(client.connect(transport, { timeout: timeoutMs, signal: deadline }), deadline, timeoutMs);
      const tools = await raceSignal(
        listAllTools(client, { timeout: timeoutMs, signal: deadline }),
        deadline,
        timeoutMs,
      );
      if (this.#lifetime.signal.aborted) throw new AbortError("closed while connecting");
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#refreshTools(client));
      this.#established(client, tools);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    } finally {
      this.#attemptClient = undefined;
    }
  }

  #established(client: Client, tools: Tool[]): void {
    this.#client = client;
    this.#lossReason = undefined;
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
    this.#scheduleActiveChecks(client);
    this.#log.info(
      { server: version?.name, version: version?.version, tools: tools.length },
      `connected to ${this.label}`,
    );
    this.emit("tools", tools);
  }

  async #refreshTools(client: Client): Promise<void> {
    if (client !== this.#client) return;
    const timeoutMs = this.#options.server.settings.connectionTimeoutMs;
    try {
      const tools = await listAllTools(client, { timeout: timeoutMs });
      if (client !== this.#client) return;
      this.#tools = tools;
      this.#log.info({ tools: tools.length }, "tool list changed upstream; reloaded");
      this.emit("tools", tools);
    } catch (error) {
      this.#log.warn({ error: this.#classify(error, "tools/list").message }, "could not reload the tool list");
    }
  }

  /**
   * Optional active health (`health_check_interval` > 0): a ping every
   * interval while connected, so a dead upstream is noticed without a call.
   */
  #scheduleActiveChecks(client: Client): void {
    clearInterval(this.#activeCheck);
    const { healthCheckIntervalMs, connectionTimeoutMs } = this.#options.server.settings;
    if (healthCheckIntervalMs <= 0) return;
    this.#activeCheck = setInterval(() => {
      if (client !== this.#client) return clearInterval(this.#activeCheck);
      void this.checkHealth(Math.min(connectionTimeoutMs, healthCheckIntervalMs)).then((report) => {
        if (!report.healthy) this.#log.warn({ reason: report.message }, "active health check failed");
      });
    }, healthCheckIntervalMs);
    this.#activeCheck.unref();
  }

  #onClosed(client: Client, transport: unknown): void {
    if (client !== this.#client) return; // an attempt that never got established, or an old client
    clearInterval(this.#activeCheck);
    this.#client = undefined;
    if (this.#lifetime.signal.aborted) return;
    const reason =
      this.#lossReason ??
      (transport instanceof ProcessGroupStdioTransport && transport.exitDescription
        ? `server process ${transport.exitDescription}`
        : "connection closed");
    this.#health.recordFailure(reason);
    this.#setState("reconnecting");
    this.#log.warn({ reason }, `lost the connection to ${this.label}; reconnecting`);
    this.start();
  }

  /** For transports that fail without closing (HTTP): drop the client so that onclose reconnects. */
  #lose(client: Client, reason: string): void {
    if (client !== this.#client) return;
    this.#lossReason = reason;
    void client.close().catch(() => undefined);
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
    this.#requireClient(operation);
  }

  #requireClient(operation: string): Client {
    const client = this.#client;
    if (client && this.state === "ready") return client;
    const lastError = this.#health.snapshot().last_error;
    throw new UpstreamUnavailableError(
      `upstream "${this.label}" is ${this.state}, cannot run ${operation}${lastError ? ` (last error: ${lastError})` : ""}`,
      this.#retryAfterSeconds(),
    );
  }

  /** Calls a tool. Resolves with the raw MCP result (isError included); rejects with a ProxyError. */
  async callTool(name: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    const operation = `tool "${name}"`;
    const client = this.#requireClient(operation);
    const timeoutMs = options.timeoutMs ?? this.#options.server.settings.toolTimeoutMs;
    try {
      const result = await client.request(
        { method: "tools/call", params: { name, arguments: args } },
        CallToolResultSchema,
        {
          timeout: timeoutMs,
          maxTotalTimeout: timeoutMs,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
      );
      this.#health.recordSuccess();
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw new ClientClosedRequestError();
      const proxyError = this.#classify(error, operation, timeoutMs);
      this.#health.recordFailure(proxyError.message);
      if (proxyError instanceof UpstreamUnavailableError) this.#lose(client, proxyError.message);
      throw proxyError;
    }
  }

  /** On-demand health: an MCP ping within `timeoutMs` when connected. */
  async checkHealth(timeoutMs: number): Promise<HealthReport> {
    if (!this.#client || this.state !== "ready") {
      const snapshot = this.#health.snapshot();
      return {
        healthy: false,
        message: `upstream is ${this.state}${snapshot.last_error ? `: ${snapshot.last_error}` : ""}`,
        snapshot,
      };
    }
    const client = this.#client;
    try {
      await client.ping({ timeout: timeoutMs });
      this.#health.recordSuccess();
      return { healthy: true, message: "connection OK", snapshot: this.#health.snapshot() };
    } catch (error) {
      const proxyError = this.#classify(error, "ping", timeoutMs);
      this.#health.recordFailure(proxyError.message);
      if (proxyError instanceof UpstreamUnavailableError) this.#lose(client, proxyError.message);
      return { healthy: false, message: proxyError.message, snapshot: this.#health.snapshot() };
    }
  }

  health(): HealthSnapshot {
    return this.#health.snapshot();
  }

  /** Closes the connection for good (a stdio server's whole process group ends). */
  async close(): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    this.#lifetime.abort();
    clearInterval(this.#activeCheck);
    this.#setState("closed");
    const clients = [this.#client, this.#attemptClient].filter((c): c is Client => c !== undefined);
    this.#client = undefined;
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await this.#connecting;
  }
}

/** Rejects when `signal` aborts, so a dial that never answers still ends. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(
        reason instanceof DOMException && reason.name === "TimeoutError"
          ? new Error(`no answer within the connection timeout of ${timeoutMs / 1000} s`)
          : new AbortError("closed while connecting"),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
