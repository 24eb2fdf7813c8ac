import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
import type { OpenAPIObject } from "../openapi/index.js";
import type { McpFace } from "./pipeline.js";
import type { ToolTarget } from "./tool-handler.js";

/** A mounted upstream as the HTTP layer needs it. */
export interface MountedServer extends ToolTarget {
  /** The server's own OpenAPI document (paths relative to its mount). */
  document(): OpenAPIObject;
  title(): string;
  /** The tool list the catalog was built from (a forwarding server's may come from a caller's session). */
  readonly listedTools?: ToolTarget["connection"]["tools"];
  /** The server as MCP (`/{name}/mcp`): see src/mcp-face/. */
  readonly mcp?: McpFace;
  /** Before the document is read: see ServerMount.prepareDocument. */
  prepareDocument?(headers: IncomingMessage["headers"]): Promise<void>;
}

interface Entry {
  readonly server: MountedServer;
  readonly router: RequestHandler;
}

export interface Resolved {
  readonly server: MountedServer;
  readonly router: RequestHandler;
  /** The URL below the mount point: "/openapi.json", "/echo?x=1", "/" for the mount itself. */
  readonly subUrl: string;
}

/**
 * Which server a request path belongs to. Servers live at `{prefix}{name}`;
 * in single-server mode the prefix is "" and the one server (named "") owns
 * every path. Lookup is one map access, whatever the number of servers, and
 * mounting or unmounting at run time (hot reload) is a map write.
 */
export class MountTable {
  readonly #entries = new Map<string, Entry>();

  constructor(
    /** "/" or "/tools/" in multi mode; "" in single-server mode. */
    readonly prefix: string,
    private readonly routerFor: (server: MountedServer, mountPath: string) => RequestHandler,
  ) {}

  /** Where a server's routes start: "/github", or "" for the single server. */
  mountPath(name: string): string {
    return name === "" ? "" : `${this.prefix}${name}`;
  }

  mount(server: MountedServer): void {
    this.#entries.set(server.name, { server, router: this.routerFor(server, this.mountPath(server.name)) });
  }

  unmount(name: string): void {
    this.#entries.delete(name);
  }

  servers(): MountedServer[] {
    return [...this.#entries.values()].map((entry) => entry.server);
  }

  resolve(url: string): Resolved | undefined {
    const single = this.#entries.get("");
    if (single && this.prefix === "") return { ...single, subUrl: url };
    if (!url.startsWith(this.prefix)) return undefined;
    const rest = url.slice(this.prefix.length);
    const end = rest.search(/[/?]/);
    const name = end === -1 ? rest : rest.slice(0, end);
    const entry = name ? this.#entries.get(name) : undefined;
    if (!entry) return undefined;
    const subUrl = end === -1 ? "/" : rest.slice(end);
    return { ...entry, subUrl: subUrl.startsWith("?") ? `/${subUrl}` : subUrl };
  }
}
