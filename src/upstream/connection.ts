import { EventEmitter } from "node:events";
import {
  SseError,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type Client,
  type PriorDiscovery,
  type ServerCapabilities,
  type Tool,
  type Transport,
} from "@modelcontextprotocol/client";
import { AbortError } from "p-retry";
import type { ServerConfig } from "../config/schema.js";
import {
  ClientClosedRequestError,
  UpstreamForbiddenError,
  LoginRequiredError,
  UpstreamIncompatibleError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  UpstreamUnavailableError,
  type ProxyError,
} from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { outcomeOf } from "../telemetry/call-outcome.js";
import type { CallLoad, ServerMetrics } from "../telemetry/metrics.js";
import { classifyError, formatSeconds, isBrokenStream, isUnreachable } from "./classify-error.js";
import { deliverCallLog, outsideCallLogs } from "./call-logs.js";
import { dial, type Dialed } from "./dial.js";
import { InputBroker } from "./elicitation.js";
import { incompatibleHint, initialVerdict, missedProbe, offeredRevisions, type Era } from "./era.js";
import { HealthTracker, type ConnectionState, type HealthSnapshot } from "./health.js";
import { CoalescedReload } from "./coalesced-reload.js";
import { ConcurrencyLimiter, LimiterTimeoutError } from "./limiter.js";
import { connectWithRetry, slowestRetryWaitMs } from "./retry-loop.js";
import { listAllTools } from "./list-tools.js";
import { OfferingsKeeper, type Offerings } from "./offerings.js";
import { endSession, openSession, type Session } from "./session.js";
import { keepNotificationOrder } from "./notification-order.js";
import { stderrLogger } from "./stderr-log.js";
import { runRequest, type RequestSender } from "./request.js";
import { ResourceSubscriptions } from "./resource-subscriptions.js";
import { callTool, type CallContext, type CallOptions } from "./tool-call.js";
import {
  blockingTask,
  closeTaskSession,
  taskStarter,
  type TaskSpec,
  type TaskStart,
  type TaskStatusListener,
} from "./tasks.js";
import { waitForReady } from "./wait-for-state.js";
import { isLegacySameOriginIssuer } from "./oauth/legacy-issuer.js";
import { UpstreamAuth } from "./oauth/upstream-auth.js";
import { remoteFetch } from "./transports/remote.js";

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
  /** The prompts or resources changed upstream (`list_changed`), and were listed again. */
  offerings: [offerings: Offerings];
  /** A resource some caller subscribed to changed (`notifications/resources/updated`). */
  resourceUpdated: [uri: string];
}

export interface UpstreamConnectionOptions {
  server: ServerConfig;
  /** Environment a stdio server inherits before its own values. */
  baseEnv: Readonly<Record<string, string>>;
  logger: Logger;
  clientInfo: { name: string; version: string };
  /**
   * How this connection lives. `shared` (the default): one session for every caller, dialed until it works and
   * redialed on every loss. `caller`: one caller identity's own session (forwarded-sessions.ts): dialed once; a
   * loss is redialed once (so a call that found the session forgotten is retried), and a failed dial closes the
   * connection for good (the pool drops it, the identity's next call dials anew); no background loop runs for
   * callers who may never come back. `lister`: the shared connection of a forwarding server, there to list the
   * tools without a caller; an upstream that refuses it (401/403: it wants each caller's credentials) ends its
   * retry loop, as retrying cannot help.
   */
  role?: "shared" | "caller" | "lister";
  /** Where the outcome and latency of each tool call are counted (src/telemetry/); absent: nowhere (--no-metrics). */
  metrics?: ServerMetrics;
}

/**
 * One upstream MCP server: dials it, retries with exponential backoff,
 * reconnects on every kind of loss, keeps passive health, and runs calls that
 * always end (timeout, cap or caller gone) within a concurrency limit. The
 * only class that holds an SDK Client.
 */
export class UpstreamConnection extends EventEmitter<UpstreamEvents> {
  readonly label: string;
  /** How messages name this upstream: `upstream "time" (stdio-node)` in config mode, `upstream "stdio-node"` alone. */
  readonly who: string;
  readonly #options: UpstreamConnectionOptions;
  readonly #log: Logger;
  readonly #health = new HealthTracker();
  readonly #lifetime = new AbortController();
  readonly #limiter: ConcurrencyLimiter;
  readonly #onStderrLine: (line: string) => void;
  /** What a call may do to this connection (see tool-call.ts). */
  readonly #callContext: CallContext;
  /** The era found by the first connection, reused by every reconnect (era.ts). */
  #verdict: PriorDiscovery | undefined;
  /** The listed tools by name, as the SDK's callTool is given them (without outputSchema: see tool-call.ts). */
  #definitions = new Map<string, Tool>();
  #session: Session | undefined;
  readonly #inputs: InputBroker;
  /** The client of an attempt still in progress, so close() can end it too. */
  #attemptClient: Client | undefined;
  #connecting: Promise<void> | undefined;
  #everConnected = false;
  #nextAttemptAt = 0;
  #tools: readonly Tool[] = [];
  /** `tools/list_changed`: the tool list reloaded, a burst of notifications coalesced (two lists, not one each). */
  readonly #toolsReload = new CoalescedReload(
    (client) => this.#refreshTools(client),
    (client) => client === this.#session?.client,
    (notifications) => this.#log.info({ notifications }, "more tools/list_changed arrived while reloading; coalesced"),
  );
  #serverInfo: UpstreamServerInfo | undefined;
  /** What the upstream offers besides tools (resources, prompts), kept up to date (offerings.ts). */
  readonly #offerings: OfferingsKeeper;
  /** A lister the upstream refused for want of a caller's credentials (see `role`): its retry loop ended. */
  #wantsCallerCredentials = false;
  /** A caller session's failed dial: what its waiting calls are told (e.g. 401 upstream_unauthorized). */
  #failure: ProxyError | undefined;
  /** The resources callers subscribed to, subscribed again on each new session. */
  readonly #subscriptions: ResourceSubscriptions;
  /** OAuth to this upstream, when configured (see oauth/upstream-auth.ts). */
  readonly #auth: UpstreamAuth | undefined;
  /** The token store's signature when the last attempt began (see #waitForLogin). */
  #storeSeenAtAttempt: string | undefined;

  constructor(options: UpstreamConnectionOptions) {
    super();
    this.#options = options;
    this.label = describeTransport(options.server.transport);
    this.who = options.server.name ? `upstream "${options.server.name}" (${this.label})` : `upstream "${this.label}"`;
    this.#log = options.logger.child({ upstream: options.server.name || this.label });
    this.#limiter = new ConcurrencyLimiter(options.server.settings.maxConcurrency, options.server.settings.maxQueue);
    this.#onStderrLine = stderrLogger(this.#log);
    this.#verdict = initialVerdict(options.server.transport);
    const { transport } = options.server;
    this.#auth =
      transport.type !== "stdio" && transport.oauth
        ? new UpstreamAuth(options.server.name, transport.url, transport.oauth)
        : undefined;
    this.#offerings = new OfferingsKeeper({
      timeoutMs: options.server.settings.connectionTimeoutMs,
      log: this.#log,
      onChange: (offerings) => this.emit("offerings", offerings),
    });
    this.#subscriptions = new ResourceSubscriptions(this.#log);
    const inputs = new InputBroker(options.server.settings.elicitation);
    this.#inputs = inputs;
    this.#callContext = {
      inputs,
      definition: (name) => this.#definitions.get(name),
      who: this.who,
      settings: options.server.settings,
      log: this.#log,
      session: (operation) => this.#requireSession(operation),
      logsInCallContext: options.server.transport.type === "streamable-http",
      lose: (client, reason) => this.#lose(client, reason),
      waitUntilReady: (timeoutMs, operation, signal) => this.#waitUntilReady(timeoutMs, operation, signal),
      classify: (error, operation, timeoutMs) => {
        const proxyError = this.#classify(error, operation, timeoutMs);
        // A call found that a human must log in (a revoked token, a step-up): the session is no use until then.
        if (proxyError instanceof LoginRequiredError) {
          const client = this.#session?.client;
          if (client) this.#lose(client, proxyError.message);
        }
        return proxyError;
      },
      succeeded: () => {
        this.#health.recordSuccess();
        this.#auth?.succeeded();
      },
      failed: (message) => this.#health.recordFailure(message),
    };
  }

  get state(): ConnectionState {
    return this.#health.state;
  }

  /** The protocol era of the current (or last) session; null before the first. */
  get era(): Era | null {
    return this.#health.era;
  }

  /** Calls running upstream and calls waiting for a slot, now. */
  get load(): CallLoad {
    return { inFlight: this.#limiter.active, queued: this.#limiter.waiting };
  }

  get tools(): readonly Tool[] {
    return this.#tools;
  }

  /** The server's tool timeout; a caller may ask for less, never for more. */
  get toolTimeoutMs(): number {
    return this.#options.server.settings.toolTimeoutMs;
  }

  /**
   * A forwarding server's shared connection was refused (401/403) for want of a caller's credentials, and is not
   * retried: the tool list comes from the callers' own sessions.
   */
  get wantsCallerCredentials(): boolean {
    return this.#wantsCallerCredentials;
  }

  /** Resources and prompts as the last session offered them; nothing before the first. */
  get offerings(): Offerings {
    return this.#offerings.current;
  }

  get serverInfo(): UpstreamServerInfo | undefined {
    return this.#serverInfo;
  }

  /** What the current session's server declared (the MCP face mirrors it); undefined while there is none. */
  get serverCapabilities(): ServerCapabilities | undefined {
    return this.#session?.client.getServerCapabilities();
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (this.#connecting || this.#lifetime.signal.aborted) return;
    // Outside any call's log context: a reconnect a streaming call set off must not hand it the new session's logs.
    this.#connecting = outsideCallLogs(() =>
      this.#options.role === "caller" ? this.#connectOnce() : this.#connectWithRetry(),
    )
      .catch((error: unknown) => {
        if (!this.#lifetime.signal.aborted) this.#log.error({ err: error }, "connect loop ended unexpectedly");
      })
      .finally(() => {
        this.#connecting = undefined;
      });
  }

  async #connectWithRetry(): Promise<void> {
    const { server } = this.#options;
    const settings = server.settings;
    while (!this.#lifetime.signal.aborted) {
      try {
        const dialed = await connectWithRetry({
          settings,
          label: this.label,
          log: this.#log,
          signal: this.#lifetime.signal,
          attempt: () => this.#attempt(),
          describe: (error) => this.#classify(error, "connect").message,
          onFailure: (reason, nextAttemptAt) => {
            this.#nextAttemptAt = nextAttemptAt;
            this.#health.recordFailure(reason);
          },
          onDown: () => this.#setState("down"),
        });
        this.#established(dialed);
        return;
      } catch (error) {
        if (this.#lifetime.signal.aborted) return;
        if (error instanceof LoginRequiredError && this.#auth?.loginCommand) {
          await this.#waitForLogin(error, this.#auth);
          continue;
        }
        if (error instanceof UpstreamUnauthorizedError || error instanceof UpstreamForbiddenError) {
          // A lister refused without a caller's credentials: the tools come from the callers' own sessions.
          this.#health.recordFailure(
            `${error.message}; the upstream wants each caller's credentials, so the tool list comes from the first caller's session`,
          );
          this.#wantsCallerCredentials = true;
          this.#setState("down");
          this.#log.info("the upstream refused the shared connection: tools are listed by the callers' sessions");
          return;
        }
        if (!(error instanceof UpstreamIncompatibleError)) {
          // The retry loop retries whatever an attempt throws; should it still end (a bug), connecting goes on
          // at the slow pace: the loop never ends while the server is enabled.
          const reason = this.#classify(error, "connect").message;
          this.#health.recordFailure(reason);
          this.#nextAttemptAt = Date.now() + slowestRetryWaitMs(settings);
          this.#log.error({ err: error }, "the connect loop ended unexpectedly; starting it again");
          await sleep(slowestRetryWaitMs(settings), this.#lifetime.signal);
          continue;
        }
        // Not an outage: retrying soon would only fail again. Try again at the slow pace, in case either side
        // is upgraded.
        this.#nextAttemptAt = Date.now() + slowestRetryWaitMs(settings);
        this.#health.recordFailure(error.message);
        this.#health.mismatch = {
          ours: offeredRevisions(settings),
          upstream: (error.extra.upstream_versions as string[] | undefined) ?? null,
        };
        this.#setState("incompatible");
        this.#log.error(
          { error: error.message, retry_in_s: slowestRetryWaitMs(settings) / 1000 },
          `${this.label} speaks no MCP revision we offered`,
        );
        await sleep(slowestRetryWaitMs(settings), this.#lifetime.signal);
      }
    }
  }

  /** A caller session's one dial: ready, or closed with the reason kept for the calls that wait (see `role`). */
  async #connectOnce(): Promise<void> {
    try {
      this.#setState(this.#everConnected ? "reconnecting" : "connecting");
      this.#established(await this.#attempt());
    } catch (error) {
      if (this.#lifetime.signal.aborted) return;
      this.#failure = this.#classify(error instanceof AbortError ? error.originalError : error, "connect");
      this.#health.recordFailure(this.#failure.message);
      this.#log.warn({ error: this.#failure.message }, `could not open a caller's session to ${this.label}`);
      this.#setState("closed");
    }
  }

  /** Resolves once a caller session is ready; rejects with why its dial failed (see `role`). */
  opened(): Promise<void> {
    if (this.#session && this.state === "ready") return Promise.resolve();
    return waitForReady(
      this,
      // The dial ends within connection_timeout; the margin only guards against a dial that never settles.
      this.#options.server.settings.connectionTimeoutMs + 1000,
      () => this.#failure ?? this.#unavailable("connect"),
      () => new ClientClosedRequestError(),
    );
  }

  /**
   * No usable token: not an outage, so no fast retries. Waits until the token store changes (`mcpo auth` wrote
   * it) or, at most, the slow pace; the store is polled, a stat every 250 ms.
   */
  async #waitForLogin(error: LoginRequiredError, auth: UpstreamAuth): Promise<void> {
    // The store as the failed attempt first read it: a login written meanwhile is a change, not the baseline.
    const since = this.#storeSeenAtAttempt ?? auth.store.signature();
    const waitMs = slowestRetryWaitMs(this.#options.server.settings);
    this.#nextAttemptAt = Date.now() + waitMs;
    this.#health.recordFailure(error.message);
    this.#setState("unauthorized");
    this.#log.warn(
      { command: auth.loginCommand },
      `${this.label} needs a login; waiting for the token store to change`,
    );
    await auth.store.waitForChange(since, waitMs, this.#lifetime.signal);
  }

  /** One attempt, in the era found before if any; an incompatible upstream ends the retry loop (AbortError). */
  async #attempt(): Promise<Dialed> {
    const { server, baseEnv, clientInfo } = this.#options;
    this.#storeSeenAtAttempt = this.#auth?.store.signature();
    const prior = this.#verdict;
    if (this.#auth?.loginCommand && this.#auth.stepUpPending) {
      throw new AbortError(
        new LoginRequiredError(
          `${this.who} wants more scope than the stored token has: run \`${this.#auth.loginCommand}\` to grant it`,
          { extra: { command: this.#auth.loginCommand } },
        ),
      );
    }
    try {
      return await dial({
        server,
        baseEnv,
        clientInfo,
        prior,
        inputs: this.#inputs,
        listOfferings: this.#options.role !== "caller",
        ...(this.#auth ? { authProvider: this.#auth.provider } : {}),
        ...(this.#auth?.legacyIssuer ? { skipIssuerMetadataValidation: true } : {}),
        onStderrLine: this.#onStderrLine,
        log: this.#log,
        lifetime: this.#lifetime.signal,
        onClose: (client, transport) => this.#onClosed(client, transport),
        onError: (client, transport, error) => this.#onTransportError(client, transport, error),
        onAttempt: (client) => (this.#attemptClient = client),
      });
    } catch (error) {
      // A remembered era may be stale (the server was upgraded or replaced): the next attempt probes again. Not
      // when nothing answered at all: an outage says nothing about the era, and the restarted server is spoken to
      // at once.
      if (prior && server.transport.type !== "sse" && !isUnreachable(error)) this.#verdict = undefined;
      if (
        this.#auth &&
        !this.#auth.legacyIssuer &&
        server.transport.type !== "stdio" &&
        (await isLegacySameOriginIssuer(error, server.transport.url, remoteFetch(server.transport.tls)))
      ) {
        this.#auth.legacyIssuer = true;
        this.#log.warn("a 2025-03-26 server whose authorization server metadata names a same-origin issuer; accepted");
      }
      const proxyError = this.#classify(error, "connect");
      if (proxyError instanceof LoginRequiredError) throw new AbortError(proxyError);
      if (
        this.#options.role === "lister" &&
        (proxyError instanceof UpstreamUnauthorizedError || proxyError instanceof UpstreamForbiddenError)
      ) {
        throw new AbortError(proxyError);
      }
      if (!(proxyError instanceof UpstreamIncompatibleError)) throw error;
      const theirs = proxyError.extra.upstream_versions as string[] | undefined;
      if (missedProbe(server.settings, theirs)) {
        throw new Error(
          `the upstream speaks ${theirs!.join(", ")} but did not answer the server/discover probe in time (still starting?); probing again`,
          { cause: error },
        );
      }
      throw new AbortError(proxyError);
    }
  }

  #established(dialed: Dialed): void {
    const { client, transport, tools, warnings } = dialed;
    keepNotificationOrder(transport);
    for (const warning of warnings) this.#log.warn(warning);
    this.#health.skippedTools = dialed.skipped;
    const settings = this.#options.server.settings;
    const session = openSession({
      client,
      transport,
      settings,
      remote: this.#options.server.transport.type !== "stdio",
      callStreams: this.#options.server.transport.type === "streamable-http",
      onSilent: () => this.#checkSilent(client),
      // Optional active health: a check every interval, so a dead upstream is noticed without a call.
      onActiveCheck: () =>
        void this.checkHealth(Math.min(settings.connectionTimeoutMs, settings.healthCheckIntervalMs)).then((report) => {
          if (!report.healthy) this.#log.warn({ reason: report.message }, "active health check failed");
        }),
      ...(dialed.subscription ? { subscription: dialed.subscription } : {}),
      era: dialed.era,
    });
    client.setNotificationHandler("notifications/tools/list_changed", () => this.#toolsReload.changed(client));
    this.#offerings.reset(client, dialed.offerings);
    client.setNotificationHandler("notifications/prompts/list_changed", () => this.#offerings.changed(client));
    client.setNotificationHandler("notifications/resources/list_changed", () => this.#offerings.changed(client));
    client.setNotificationHandler("notifications/message", deliverCallLog);
    client.setNotificationHandler("notifications/resources/updated", (notification) => {
      this.emit("resourceUpdated", notification.params.uri);
    });
    if (this.#subscriptions.size > 0) this.#subscriptions.renew(client, settings.connectionTimeoutMs);
    // On 2026-07-28 the change stream is the one long-lived request: its end, unasked, means the upstream went away.
    // (Ended by the server on purpose, it is gone too: a reconnect listens again and reloads the tools.)
    void dialed.subscription?.closed.then((how) => {
      if (how !== "local") this.#lose(client, `the upstream ended the subscriptions/listen stream (${how})`);
    });
    this.#session = session;
    this.#verdict = dialed.verdict;
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
    this.#health.protocolVersion = dialed.protocolVersion;
    this.#health.era = dialed.era;
    this.#health.mismatch = undefined;
    this.#setTools(tools);
    this.#setState("ready");
    this.#log.info(
      {
        server: version?.name,
        version: version?.version,
        protocol_version: dialed.protocolVersion,
        era: dialed.era,
        tools: tools.length,
      },
      `connected to ${this.label}`,
    );
    this.emit("tools", tools);
  }

  #setTools(tools: readonly Tool[]): void {
    this.#tools = tools;
    this.#definitions = new Map(tools.map((tool) => [tool.name, { ...tool, outputSchema: undefined }]));
  }

  async #refreshTools(client: Client): Promise<void> {
    if (client !== this.#session?.client) return;
    const timeoutMs = this.#options.server.settings.connectionTimeoutMs;
    try {
      const { tools, warnings, skipped } = await listAllTools(client, {
        timeout: timeoutMs,
        checkHeaderAnnotations:
          this.#session?.era === "modern" && this.#options.server.transport.type === "streamable-http",
      });
      if (client !== this.#session?.client) return;
      for (const warning of warnings) this.#log.warn(warning);
      this.#health.skippedTools = skipped;
      this.#setTools(tools);
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
      await checkAlive(client, Math.min(sseReadTimeoutMs, connectionTimeoutMs));
    } catch {
      this.#lose(
        client,
        `nothing heard from the upstream within sse_read_timeout (${formatSeconds(sseReadTimeoutMs)})`,
      );
    }
  }

  #onTransportError(client: Client, _transport: Transport, error: Error): void {
    this.#log.debug({ err: error }, "transport error");
    // A broken stream loses the session: its calls in flight fail at once (503, "may or may not have run"), not
    // at the silence check. On legacy SSE the SDK's EventSource would also reconnect by itself into a new session
    // without `initialize` (typescript-sdk #510): the client is dropped instead, and dialed again properly. The
    // failure of one POST (an HTTP status) is reported here too, and fails only its own request.
    if (isBrokenStream(error)) {
      this.#lose(
        client,
        `${error instanceof SseError ? "the SSE stream" : "a response stream"} failed (${error.message})`,
      );
    }
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
    closeTaskSession(session.client);
    if (this.#lifetime.signal.aborted) return;
    this.#health.recordFailure(reason);
    this.#setState("reconnecting");
    this.#log.warn({ reason }, `lost the connection to ${this.label}; reconnecting`);
    // (A caller session dials once more: see `role`.)
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
      upstream: this.who,
      operation,
      retryAfterSeconds: this.#retryAfterSeconds(),
      incompatibleHint: incompatibleHint(this.#options.server.settings),
      // A forwarding server's 401 and 403 are about credentials (the caller's own, or none): said so, not a 502.
      credentials: this.#options.server.forward !== undefined,
      connecting: operation === "connect",
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(this.#auth?.loginCommand ? { loginCommand: this.#auth.loginCommand } : {}),
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

  /** The 503 for a call that finds no connection (502 when incompatible): the state and the last error. */
  #unavailable(operation: string): ProxyError {
    if (this.#failure) return this.#failure;
    const lastError = this.#health.snapshot().last_error;
    if (this.state === "unauthorized" && this.#auth?.loginCommand) {
      return new LoginRequiredError(
        `${this.who} needs a login before ${operation}: run \`${this.#auth.loginCommand}\` and follow the URL it prints`,
        { extra: { command: this.#auth.loginCommand } },
      );
    }
    if (this.state === "incompatible") {
      return new UpstreamIncompatibleError(
        `cannot run ${operation}: ${lastError ?? `${this.who} speaks no MCP revision we offered`}`,
        { extra: { versions: this.#health.mismatch } },
      );
    }
    return new UpstreamUnavailableError(
      `${this.who} is ${this.state}, cannot run ${operation}${lastError ? ` (last error: ${lastError})` : ""}`,
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

  /**
   * Calls a tool. Resolves with the raw MCP result (isError included); rejects with a ProxyError. The tool
   * timeout bounds the whole wait: for a reconnect in progress, for a slot in the queue, and for the answer.
   */
  async callTool(name: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<CallToolResult> {
    const metrics = this.#options.metrics;
    if (!metrics) return this.#callTool(name, args, options);
    // Both faces' calls (REST and MCP) pass here, so both are counted, waits for a reconnect or a slot included.
    const started = performance.now();
    try {
      const result = await this.#callTool(name, args, options);
      metrics.toolCall(name, result.isError ? "tool_error" : "ok", (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      metrics.toolCall(name, outcomeOf(error), (performance.now() - started) / 1000);
      throw error;
    }
  }

  async #callTool(name: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    const startedAt = Date.now();
    const admitted = this.#admit(`tool "${name}"`, options, startedAt);
    const release = typeof admitted === "function" ? admitted : await admitted;
    try {
      return await callTool(this.#callContext, name, args, options, startedAt);
    } finally {
      release();
    }
  }

  /**
   * Any other request of the upstream's (resources, prompts, tasks): admitted as a call is (a reconnect waited for,
   * a slot in the queue), then sent by `send` on the session's client within what is left of the tool timeout,
   * cancelled when the caller goes away, its failure mapped as a call's is (see request.ts).
   */
  async request<T>(operation: string, send: RequestSender<T>, options: CallOptions = {}): Promise<T> {
    const startedAt = Date.now();
    const release = await this.#admit(operation, options, startedAt);
    try {
      return await runRequest(this.#callContext, operation, send, options, startedAt);
    } finally {
      release();
    }
  }

  /**
   * One more caller wants `resources/updated` notifications of `uri` (2025-11-25 upstreams): asked of the upstream
   * for its first caller only (resource-subscriptions.ts); the notifications come as `resourceUpdated` events.
   */
  subscribeResource(uri: string, options: CallOptions = {}): Promise<void> {
    return this.request(`subscription to resource "${uri}"`, this.#subscriptions.subscribe(uri), options);
  }

  /** A caller no longer wants notifications of `uri`: the upstream is told when it was the last one. */
  unsubscribeResource(uri: string, options: CallOptions = {}): Promise<void> {
    return this.request(`subscription to resource "${uri}"`, this.#subscriptions.unsubscribe(uri), options);
  }

  /**
   * Senders (for `request`, or a forwarded session's) of a tool call run as an MCP task (tasks.ts): `blocking` runs
   * it to its end within the call's bounds (`timeoutMs` as CallOptions'), `start` returns it running.
   */
  toolTask(
    name: string,
    args: Record<string, unknown>,
    options: { required: boolean; timeoutMs?: number; onStatus?: TaskStatusListener },
  ): { blocking: RequestSender<CallToolResult>; start: RequestSender<TaskStart> } {
    const { settings } = this.#options.server;
    const definition = this.#definitions.get(name);
    const spec: TaskSpec = {
      name,
      args,
      required: options.required,
      who: this.who,
      inputs: this.#inputs,
      pollTimeoutMs: settings.toolTimeoutMs,
      ...(definition ? { definition } : {}),
    };
    return {
      blocking: blockingTask(spec, {
        timeoutMs: options.timeoutMs ?? settings.toolTimeoutMs,
        capMs: options.timeoutMs ?? settings.maxToolTimeoutMs,
        hard: options.timeoutMs !== undefined,
        ...(options.onStatus ? { onStatus: options.onStatus } : {}),
      }),
      start: taskStarter(spec),
    };
  }

  /**
   * Waits, within the call's bounds, until the upstream is connected and a slot is free; returns the slot's
   * release. Synchronous when both are at hand (the hot path: no promise, no extra turn of the event loop).
   */
  #admit(operation: string, options: CallOptions, startedAt: number): (() => void) | Promise<() => void> {
    if (this.#session && this.state === "ready") {
      const release = this.#limiter.tryAcquire();
      if (release) return release;
    }
    return this.#admitLater(operation, options, startedAt);
  }

  async #admitLater(operation: string, options: CallOptions, startedAt: number): Promise<() => void> {
    const timeoutMs = options.timeoutMs ?? this.toolTimeoutMs;
    const signal = options.controller?.signal;
    if (!this.#session || this.state !== "ready") {
      // Lost after it worked: the call waits for the reconnect (as the call that found the loss does), within
      // connection_timeout and its own timeout. Never connected yet, incompatible, closed, or down with no
      // attempt due within that bound: 503 at once.
      const boundMs = Math.min(this.#options.server.settings.connectionTimeoutMs, timeoutMs);
      const comingBack =
        this.#everConnected &&
        (this.state === "reconnecting" || (this.state === "down" && this.#nextAttemptAt - Date.now() < boundMs));
      if (!comingBack) throw this.#unavailable(operation);
      await this.#waitUntilReady(boundMs, operation, signal);
    }
    return this.#limiter.tryAcquire() ?? (await this.#queue(operation, timeoutMs - (Date.now() - startedAt), signal));
  }

  /** Waits for a slot, at most `timeoutMs` (504: the call was never sent), or 503 when the queue is full. */
  async #queue(operation: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<() => void> {
    try {
      return await this.#limiter.acquire(signal, timeoutMs);
    } catch (error) {
      if (signal?.aborted) throw new ClientClosedRequestError();
      const { maxConcurrency } = this.#options.server.settings;
      if (error instanceof LimiterTimeoutError) {
        this.#health.recordFailure(error.message);
        throw new UpstreamTimeoutError(
          `${this.who} could not start ${operation} within ${formatSeconds(Math.max(0, timeoutMs))}: it waited in the queue behind ${maxConcurrency} running calls (max_concurrency) and was never sent`,
          { cause: error },
        );
      }
      throw new UpstreamUnavailableError(`${this.who} is busy (${(error as Error).message}); try again shortly`, 1);
    }
  }

  /** On-demand health: an MCP ping (2025) or `server/discover` (2026-07-28, which has no ping) within `timeoutMs`. */
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
      await checkAlive(session.client, timeoutMs);
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
    // A caller's session is ended upstream too (DELETE with its Mcp-Session-Id), so the upstream frees what it
    // holds for that caller at once rather than at its own expiry.
    if (this.#options.role === "caller" && session) await terminateSession(session.client, 2000);
    const clients = [session?.client, this.#attemptClient].filter((c): c is Client => c !== undefined);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await this.#connecting;
  }
}

/** Liveness in the connection's era: `ping` on 2025 connections; 2026-07-28 removed it, `server/discover` serves. */
function checkAlive(client: Client, timeoutMs: number): Promise<unknown> {
  return client.getProtocolEra() === "modern"
    ? client.discover({ timeout: timeoutMs })
    : client.ping({ timeout: timeoutMs });
}

/** Ends a 2025 Streamable HTTP session upstream (a 405 or any failure is ignored), within `timeoutMs`. */
async function terminateSession(client: Client, timeoutMs: number): Promise<void> {
  const transport = client.transport;
  if (!(transport instanceof StreamableHTTPClientTransport) || transport.sessionId === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    transport.terminateSession().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
