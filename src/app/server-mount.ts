import { EventEmitter } from "node:events";
import { buildCatalog, type Catalog } from "../catalog/index.js";
import type { ServerConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { UpstreamConnection } from "../upstream/index.js";

export interface MountDependencies {
  baseEnv: Readonly<Record<string, string>>;
  logger: Logger;
  clientInfo: { name: string; version: string };
}

/** One upstream and the catalog of routes built from its current tool list. */
export class ServerMount extends EventEmitter<{ changed: [] }> {
  readonly name: string;
  readonly connection: UpstreamConnection;
  #catalog: Catalog | undefined;

  constructor(server: ServerConfig, dependencies: MountDependencies) {
    super();
    this.name = server.name;
    this.connection = new UpstreamConnection({ server, ...dependencies });
    const log = dependencies.logger.child({ upstream: server.name || this.connection.label });
    this.connection.on("tools", (tools) => {
      this.#catalog = buildCatalog(tools, { operationIdPrefix: server.name, logger: log });
      log.info({ endpoints: this.#catalog.routes.length }, "tool endpoints ready");
      this.emit("changed");
    });
  }

  get catalog(): Catalog | undefined {
    return this.#catalog;
  }

  start(): void {
    this.connection.start();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
