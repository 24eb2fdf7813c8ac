import { DEFAULTS } from "../config/defaults.js";
import type { AppConfig, ServerConfig } from "../config/schema.js";
import type { MountTable } from "../http/mount-table.js";
import type { Logger } from "../log/logger.js";
import { buildOpenApiDocument, type OpenAPIObject } from "../openapi/index.js";
import { aggregatable, McpEndpoint } from "../mcp-face/index.js";
import { fingerprintOf, ServerMount } from "./server-mount.js";
import type { Metrics } from "../telemetry/metrics.js";
import { PACKAGE_VERSION } from "./version.js";

export interface ApplyReport {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/**
 * The running set of servers. apply() takes a whole server list (at start,
 * and on every hot reload) and changes only what differs: new servers connect
 * and mount, removed ones unmount and close, changed ones are replaced,
 * unchanged ones keep their connection and in-flight calls.
 */
export class ProxyRuntime {
  readonly #config: AppConfig;
  readonly #logger: Logger;
  readonly #table: MountTable;
  readonly #telemetry: Metrics | undefined;
  readonly #mounts = new Map<string, ServerMount>();
  #disabled: string[] = [];
  #aggregate: OpenAPIObject | undefined;
  /** Config mode: every server's tools, resources and prompts as one MCP endpoint (`/mcp`). */
  readonly mcp: McpEndpoint | undefined;

  constructor(config: AppConfig, logger: Logger, table: MountTable, telemetry?: Metrics) {
    this.#config = config;
    this.#telemetry = telemetry;
    this.#logger = logger;
    this.#table = table;
    const { mcp } = config.http;
    this.mcp =
      config.mode === "multi" && mcp
        ? new McpEndpoint({
            scope: {
              prefixed: true,
              sources: () => this.#aggregated(),
              info: () => ({ name: config.doc.title ?? DEFAULTS.title, version: PACKAGE_VERSION }),
            },
            logger: logger.child({ mcp: "aggregate" }),
            ...mcp,
          })
        : undefined;
  }

  /**
   * The servers of the aggregated MCP endpoint, by name: those whose name can prefix a tool's (aggregatable), and
   * which no key or allow-list of their own guards: one request's credentials cannot be checked against several
   * servers' guards, so such a server is reached at its own `/{name}/mcp` only.
   */
  #aggregated(): ServerMount[] {
    return [...this.#mounts.values()]
      .filter((mount) => aggregatable(mount.name) && mount.apiKey === undefined && mount.allow === undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async apply(servers: readonly ServerConfig[]): Promise<ApplyReport> {
    const wanted = new Map(servers.filter((server) => !server.disabled).map((server) => [server.name, server]));
    const report: ApplyReport = { added: [], removed: [], changed: [], unchanged: [] };
    const closing: Promise<void>[] = [];
    for (const [name, mount] of this.#mounts) {
      const next = wanted.get(name);
      if (next && fingerprintOf(next) === mount.fingerprint) continue;
      (next ? report.changed : report.removed).push(name);
      // A removed server's series go (a replaced one's are carried on by its successor).
      if (!next) this.#telemetry?.removeServer(name);
      this.#table.unmount(name);
      this.#mounts.delete(name);
      // Unmounted now (new calls go to its replacement, or get 404); calls it is running may finish.
      closing.push(mount.close(this.#config.shutdownGraceMs));
    }
    for (const server of wanted.values()) {
      if (this.#mounts.has(server.name)) {
        report.unchanged.push(server.name);
        continue;
      }
      if (!report.changed.includes(server.name)) report.added.push(server.name);
      const mount = new ServerMount(server, {
        baseEnv: this.#config.baseEnv,
        logger: this.#logger,
        clientInfo: { name: "mcpo-ts", version: PACKAGE_VERSION },
        publicPath: `${this.#config.http.rootPath}${this.#table.mountPath(server.name)}`,
        doc: this.#config.mode === "single" ? this.#config.doc : {},
        // An OIDC bearer token is accepted where the key is: the document says bearer auth either way.
        globalApiKey: this.#config.http.apiKey !== undefined || this.#config.http.auth?.oidc !== undefined,
        mcp: this.#config.http.mcp,
        ...(this.#telemetry ? { telemetry: this.#telemetry } : {}),
      });
      mount.on("changed", () => {
        this.#aggregate = undefined;
        this.mcp?.changed();
      });
      mount.connection.on("resourceUpdated", (uri) => this.mcp?.resourceUpdated(mount, uri));
      this.#mounts.set(server.name, mount);
      this.#table.mount(mount);
      mount.start();
    }
    this.#disabled = servers.filter((server) => server.disabled).map((server) => server.name);
    this.#aggregate = undefined;
    // Servers came or went: the aggregated endpoint's clients are told its lists changed.
    if (report.added.length + report.removed.length + report.changed.length > 0) this.mcp?.changed();
    await Promise.all(closing);
    return report;
  }

  /** Names of the servers whose first outcome is not known yet (ServerMount.known), for readiness. */
  waitingFor(): string[] {
    return [...this.#mounts.values()].filter((mount) => !mount.known).map((mount) => mount.name);
  }

  disabled(): readonly string[] {
    return this.#disabled;
  }

  /**
   * Multi mode: one document with every tool of every server, rebuilt lazily after a change. It waits (503) for
   * each enabled server's first outcome; servers that failed to connect are left out, with a note.
   */
  aggregatedDocument(): OpenAPIObject {
    // A forwarding server whose tools only callers can list is left out (noted) rather than waited for.
    const waiting = [...this.#mounts.values()].find((mount) => !mount.settled && !mount.awaitingCallers);
    if (waiting) throw waiting.notSettled("the aggregated OpenAPI document");
    this.#aggregate ??= this.#buildAggregate();
    return this.#aggregate;
  }

  #buildAggregate(): OpenAPIObject {
    const { rootPath } = this.#config.http;
    const all = [...this.#mounts.values()].sort((a, b) => a.name.localeCompare(b.name));
    const mounts = all.filter((mount) => mount.catalog !== undefined);
    const failed = all.filter((mount) => mount.catalog === undefined);
    const links = mounts
      .map((mount) => `- [${mount.name}](${rootPath}${this.#table.mountPath(mount.name)}/docs)`)
      .join("\n");
    const note =
      failed.length === 0
        ? ""
        : `\n\nNot in this document, as they did not connect (their tools appear once they do): ${failed
            .map((mount) =>
              mount.awaitingCallers
                ? `${mount.name} (lists its tools only to callers with credentials: see its own document)`
                : mount.name,
            )
            .join(", ")}.`;
    return buildOpenApiDocument({
      title: this.#config.doc.title ?? DEFAULTS.title,
      description: `${this.#config.doc.description ?? "MCP servers served over HTTP by mcpo-ts."}\n\nEach server's own docs:\n${links}${note}`,
      version: this.#config.doc.version ?? "1.0.0",
      serverUrl: rootPath,
      health: "aggregate",
      mounts: mounts.map((mount) => ({
        prefix: this.#table.mountPath(mount.name),
        name: mount.name,
        catalog: mount.catalog,
        offerings: mount.connection.offerings,
      })),
      bearerAuth:
        this.#config.http.apiKey !== undefined ||
        this.#config.http.auth?.oidc !== undefined ||
        mounts.some((mount) => mount.apiKey !== undefined),
      logger: this.#logger,
    });
  }

  async close(): Promise<void> {
    await this.mcp?.close();
    const mounts = [...this.#mounts.values()];
    this.#mounts.clear();
    await Promise.all(mounts.map((mount) => mount.close()));
  }
}
