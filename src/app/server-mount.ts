import { EventEmitter } from "node:events";
import { buildCatalog, filterTools, type Catalog } from "../catalog/index.js";
import type { AllowList, DocInfo, ImageResults, McpFaceConfig, ServerConfig } from "../config/schema.js";
import type { MountedServer } from "../http/mount-table.js";
import type { Logger } from "../log/logger.js";
import { buildOpenApiDocument, type OpenAPIObject } from "../openapi/index.js";
import { ForwardedSessions, UpstreamConnection, type IncomingHeaders } from "../upstream/index.js";
import { DEFAULTS } from "../config/defaults.js";
import { UpstreamUnavailableError } from "../errors/index.js";
import { McpEndpoint } from "../mcp-face/index.js";
import { serverLabel, type Metrics } from "../telemetry/metrics.js";

/** `{key: value}` when value is defined, else nothing: for optional fields under exactOptionalPropertyTypes. */
function optional<K extends string, V>(key: K, value: V | undefined): { [key in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [key in K]: V });
}

export interface MountDependencies {
  baseEnv: Readonly<Record<string, string>>;
  logger: Logger;
  clientInfo: { name: string; version: string };
  /** Public URL prefix of the server's routes (root path + mount path), for its document. */
  publicPath: string;
  /** --name/--description/--version: they describe this server's document in single-server mode only. */
  doc: DocInfo;
  /** Whether --api-key guards tool routes (documented as bearer auth). */
  globalApiKey: boolean;
  /** Bounds of the MCP endpoint's 2025 sessions; false: no MCP endpoint (--no-mcp). */
  mcp: McpFaceConfig | false;
  /** Where the server's calls, load and connection states are counted; absent with --no-metrics. */
  telemetry?: Metrics;
}

/** One upstream, the catalog of routes built from its current tool list, and its own OpenAPI document. */
export class ServerMount extends EventEmitter<{ changed: [] }> implements MountedServer {
  readonly name: string;
  readonly connection: UpstreamConnection;
  /** A forwarding server's caller sessions (`forward`), one per identity; undefined otherwise. */
  readonly forwarding: ForwardedSessions | undefined;
  readonly apiKey: string | undefined;
  readonly allow: AllowList | undefined;
  readonly imageResults: ImageResults;
  /** Identity of the config this mount runs: hot reload replaces the mount when it changes. */
  readonly fingerprint: string;
  readonly #dependencies: MountDependencies;
  /** Seconds a reader of a document not ready yet is told to wait: the first wait between attempts. */
  readonly #retryAfterSeconds: number;
  /**
   * The first outcome is known: a tool list, or the server declared down, incompatible or unauthorized. Until then there is no
   * document: one without tools would make a client (Open WebUI reads it on every chat) register a server without
   * tools.
   */
  #settled = false;
  #catalog: Catalog | undefined;
  #listedTools: UpstreamConnection["tools"] = [];
  #exposedTools: UpstreamConnection["tools"] = [];
  /** The server as MCP (`/{name}/mcp`, or `/mcp` alone): the MCP face; undefined with --no-mcp. */
  readonly mcp: McpEndpoint | undefined;
  #document: OpenAPIObject | undefined;
  /** Closing: its connection's last state changes are no longer shown in the metrics. */
  #retired = false;

  constructor(server: ServerConfig, dependencies: MountDependencies) {
    super();
    this.name = server.name;
    this.apiKey = server.apiKey;
    this.allow = server.allow;
    this.imageResults = server.settings.imageResults;
    this.fingerprint = fingerprintOf(server);
    this.#dependencies = dependencies;
    this.#retryAfterSeconds = Math.max(1, Math.ceil(server.settings.retryDelayMs / 1000));
    const metricsName = serverLabel(server.name);
    const metrics = dependencies.telemetry?.forServer(metricsName);
    this.connection = new UpstreamConnection({
      server,
      ...dependencies,
      ...(metrics ? { metrics } : {}),
      ...(server.forward ? { role: "lister" as const } : {}),
    });
    this.forwarding = server.forward
      ? new ForwardedSessions({
          ...dependencies,
          ...(metrics ? { metrics } : {}),
          server: { ...server, forward: server.forward },
          who: this.connection.who,
        })
      : undefined;
    const telemetry = dependencies.telemetry;
    if (telemetry) {
      // (A forwarding server's caller sessions have limiters of their own: the shared connection's load is shown.)
      telemetry.watchLoad(metricsName, () => this.connection.load);
      telemetry.upstreamState(metricsName, this.connection.state);
      this.connection.on("state", (state) => {
        // A replaced mount (hot reload) closing must not overwrite the series its successor shows.
        if (this.#retired) return;
        telemetry.upstreamState(metricsName, state);
        const era = this.connection.era;
        if (state === "ready" && era) telemetry.upstreamEra(metricsName, era);
      });
    }
    this.connection.on("state", (state) => {
      if (this.#settled || (state !== "down" && state !== "incompatible" && state !== "unauthorized")) return;
      // Refused without a caller's credentials: the document waits for a caller's session to list the tools.
      if (this.connection.wantsCallerCredentials) return;
      this.#settled = true;
      this.#document = undefined;
      this.emit("changed");
    });
    const log = dependencies.logger.child({ upstream: server.name || this.connection.label });
    const toolsListed = (tools: UpstreamConnection["tools"]): void => {
      this.#listedTools = tools;
      const filtered = filterTools(tools, server.tools);
      for (const name of filtered.unknownNames) {
        log.warn({ tool: name }, "enabledTools/disabledTools names a tool the server does not have");
      }
      this.#exposedTools = filtered.tools;
      this.#catalog = buildCatalog(filtered.tools, { operationIdPrefix: "", logger: log });
      this.#settled = true;
      this.#document = undefined;
      log.info(
        { endpoints: this.#catalog.routes.length, hidden: tools.length - filtered.tools.length },
        "tool endpoints ready",
      );
      this.emit("changed");
    };
    this.connection.on("tools", toolsListed);
    // Prompts or resources changed upstream: the document lists them (a new prompt is a new route).
    this.connection.on("offerings", () => {
      this.#document = undefined;
      if (this.#settled) this.emit("changed");
    });
    this.forwarding?.on("tools", toolsListed);
    this.mcp = !dependencies.mcp
      ? undefined
      : new McpEndpoint({
          scope: {
            prefixed: false,
            sources: () => [this],
            info: () => ({
              name: this.connection.serverInfo?.name ?? (this.name || this.connection.label),
              version: this.connection.serverInfo?.version ?? "1.0.0",
              ...optional("title", this.connection.serverInfo?.title),
              ...optional("instructions", this.connection.serverInfo?.instructions),
            }),
          },
          logger: log,
          ...dependencies.mcp,
        });
    this.on("changed", () => this.mcp?.changed());
    this.connection.on("resourceUpdated", (uri) => this.mcp?.resourceUpdated(this, uri));
  }

  /** The upstream's tools after enabledTools/disabledTools, as listed: what the MCP face offers. */
  get exposedTools(): UpstreamConnection["tools"] {
    return this.#exposedTools;
  }

  /** The tool list the catalog was built from: the shared connection's, or a caller session's (forwarding). */
  get listedTools(): UpstreamConnection["tools"] {
    return this.#listedTools;
  }

  get catalog(): Catalog | undefined {
    return this.#catalog;
  }

  /** Whether the first outcome of connecting is known (see #settled). */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * For the MCP face: whether what the server offers is known (the first outcome, or a forwarding server that lists
   * its tools only to callers), so that a client's session is built on it, not on an empty guess.
   */
  get known(): boolean {
    return this.#settled || this.awaitingCallers;
  }

  /** Resolves once `known`, or after `ms` (never rejects). */
  whenKnown(ms: number): Promise<void> {
    if (this.known) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off("changed", done);
        this.connection.off("state", onState);
        resolve();
      };
      // (A forwarding server refused without a caller's credentials becomes known by its state alone.)
      const onState = (): void => {
        if (this.known) done();
      };
      const timer = setTimeout(done, ms);
      this.on("changed", done);
      this.connection.on("state", onState);
    });
  }

  /**
   * A forwarding server whose upstream refused the shared connection (it wants each caller's credentials) and
   * whose tools no caller's session has listed yet.
   */
  get awaitingCallers(): boolean {
    return !this.#settled && this.connection.wantsCallerCredentials;
  }

  /** The 503 (with Retry-After) for a document asked for before the first outcome. */
  notSettled(what: string): UpstreamUnavailableError {
    const server = this.name ? `server "${this.name}"` : this.connection.label;
    return new UpstreamUnavailableError(
      this.awaitingCallers
        ? `${what} is not ready: the upstream of ${server} lists its tools only to a caller with credentials; ask again with the forwarded headers (your own credentials) once`
        : `${what} is not ready: the tool list of ${server} is not known yet (${this.connection.state})`,
      this.#retryAfterSeconds,
    );
  }

  /**
   * Before the document is read: a forwarding server whose tools only callers can list has them listed by this
   * request's caller, when it forwards anything (its 401/403 is the answer otherwise).
   */
  async prepareDocument(headers: IncomingHeaders): Promise<void> {
    if (!this.awaitingCallers || !this.forwarding) return;
    const identity = this.forwarding.identityOf(headers);
    if (identity.size > 0) await this.forwarding.listTools(identity);
  }

  title(): string {
    const info = this.connection.serverInfo;
    return this.#dependencies.doc.title ?? info?.title ?? info?.name ?? (this.name || DEFAULTS.title);
  }

  /** Built when first asked for after a change, never per request; throws a 503 before the first outcome. */
  document(): OpenAPIObject {
    if (!this.#settled) throw this.notSettled("the OpenAPI document");
    this.#document ??= buildOpenApiDocument({
      title: this.title(),
      description:
        this.#dependencies.doc.description ??
        `Tools of the MCP server ${this.connection.serverInfo?.name ?? this.connection.label}, served over HTTP by mcpo-ts`,
      version: this.#dependencies.doc.version ?? this.connection.serverInfo?.version ?? "1.0.0",
      serverUrl: this.#dependencies.publicPath,
      health: "single",
      mounts: [{ prefix: "", catalog: this.#catalog, offerings: this.connection.offerings }],
      bearerAuth: this.apiKey !== undefined || this.#dependencies.globalApiKey,
      logger: this.#dependencies.logger,
    });
    return this.#document;
  }

  start(): void {
    this.connection.start();
  }

  /** Closes the upstream (and every caller session), letting running calls finish for up to `drainMs` first. */
  async close(drainMs = 0): Promise<void> {
    this.#retired = true;
    await this.mcp?.close();
    await Promise.all([this.connection.close(drainMs), this.forwarding?.close(drainMs)]);
  }
}

/** Settings are resolved, so a change to the file's shared defaults changes every server it affects. */
export function fingerprintOf(server: ServerConfig): string {
  return JSON.stringify(server);
}
