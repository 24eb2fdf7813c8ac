import { EventEmitter } from "node:events";
import { buildCatalog, filterTools, type Catalog } from "../catalog/index.js";
import type { DocInfo, ServerConfig } from "../config/schema.js";
import type { MountedServer } from "../http/mount-table.js";
import type { Logger } from "../log/logger.js";
import { buildOpenApiDocument, type OpenAPIObject } from "../openapi/index.js";
import { UpstreamConnection } from "../upstream/index.js";
import { DEFAULTS } from "../config/defaults.js";

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
}

/** One upstream, the catalog of routes built from its current tool list, and its own OpenAPI document. */
export class ServerMount extends EventEmitter<{ changed: [] }> implements MountedServer {
  readonly name: string;
  readonly connection: UpstreamConnection;
  readonly apiKey: string | undefined;
  /** Identity of the config this mount runs: hot reload replaces the mount when it changes. */
  readonly fingerprint: string;
  readonly #dependencies: MountDependencies;
  #catalog: Catalog | undefined;
  #document: OpenAPIObject | undefined;

  constructor(server: ServerConfig, dependencies: MountDependencies) {
    super();
    this.name = server.name;
    this.apiKey = server.apiKey;
    this.fingerprint = fingerprintOf(server);
    this.#dependencies = dependencies;
    this.connection = new UpstreamConnection({ server, ...dependencies });
    const log = dependencies.logger.child({ upstream: server.name || this.connection.label });
    this.connection.on("tools", (tools) => {
      const filtered = filterTools(tools, server.tools);
      for (const name of filtered.unknownNames) {
        log.warn({ tool: name }, "enabledTools/disabledTools names a tool the server does not have");
      }
      this.#catalog = buildCatalog(filtered.tools, { operationIdPrefix: "", logger: log });
      this.#document = undefined;
      log.info(
        { endpoints: this.#catalog.routes.length, hidden: tools.length - filtered.tools.length },
        "tool endpoints ready",
      );
      this.emit("changed");
    });
  }

  get catalog(): Catalog | undefined {
    return this.#catalog;
  }

  title(): string {
    const info = this.connection.serverInfo;
    return this.#dependencies.doc.title ?? info?.title ?? info?.name ?? (this.name || DEFAULTS.title);
  }

  /** Built when first asked for after a change, never per request. */
  document(): OpenAPIObject {
    this.#document ??= buildOpenApiDocument({
      title: this.title(),
      description:
        this.#dependencies.doc.description ??
        `Tools of the MCP server ${this.connection.serverInfo?.name ?? this.connection.label}, served over HTTP by mcpo-ts`,
      version: this.#dependencies.doc.version ?? this.connection.serverInfo?.version ?? "1.0.0",
      serverUrl: this.#dependencies.publicPath,
      health: "single",
      mounts: [{ prefix: "", catalog: this.#catalog }],
      bearerAuth: this.apiKey !== undefined || this.#dependencies.globalApiKey,
      logger: this.#dependencies.logger,
    });
    return this.#document;
  }

  start(): void {
    this.connection.start();
  }

  /** Closes the upstream, letting its running calls finish for up to `drainMs` first. */
  close(drainMs = 0): Promise<void> {
    return this.connection.close(drainMs);
  }
}

/** Settings are resolved, so a change to the file's shared defaults changes every server it affects. */
export function fingerprintOf(server: ServerConfig): string {
  return JSON.stringify(server);
}
