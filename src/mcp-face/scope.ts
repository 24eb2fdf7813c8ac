import type { ServerCapabilities, Tool } from "@modelcontextprotocol/server";
import type { ForwardedSessions, UpstreamConnection } from "../upstream/index.js";

/** One mounted upstream as the MCP face needs it (ServerMount is one). */
export interface FaceSource {
  /** The server's name in config mode; "" for the one server of single-server mode. */
  readonly name: string;
  readonly connection: UpstreamConnection;
  /** Set when the server forwards callers' identity: requests go to the caller's own upstream session. */
  readonly forwarding?: ForwardedSessions | undefined;
  /** The upstream's tools as listed, after enabledTools/disabledTools: what both faces offer. */
  readonly exposedTools: readonly Tool[];
  /** Whether what the source offers is known yet (its first outcome): a session is built on it. */
  readonly known: boolean;
  /** Resolves once `known`, or after `ms`. */
  whenKnown(ms: number): Promise<void>;
}

/**
 * What one MCP endpoint serves: one source with its names as they are (`/{server}/mcp`), or every source with
 * names prefixed by PREFIX_SEPARATOR (the aggregated `/mcp` of config mode).
 */
export interface FaceScope {
  /** The sources in order, read anew for every request (hot reload adds and removes them). */
  sources(): readonly FaceSource[];
  readonly prefixed: boolean;
  /** serverInfo of the endpoint. */
  info(): { name: string; version: string; title?: string; instructions?: string };
}

/**
 * `{server}__{tool}`: two underscores, as tool names may hold `_`, `-` and `.` but clients (Claude, OpenAI) take
 * only `[A-Za-z0-9_-]{1,64}`; a dot would be refused by some of them. A name is split at its first `__`, so a server
 * name with `__` in it cannot be aggregated (left out, with a warning).
 */
export const PREFIX_SEPARATOR = "__";

/** The face's name of a tool or prompt of `source`. */
export function faceName(scope: FaceScope, source: FaceSource, name: string): string {
  return scope.prefixed ? `${source.name}${PREFIX_SEPARATOR}${name}` : name;
}

/** The source and upstream name a face name stands for; undefined when no source has that prefix. */
export function resolveName(scope: FaceScope, name: string): { source: FaceSource; name: string } | undefined {
  const sources = scope.sources();
  if (!scope.prefixed) return sources[0] && { source: sources[0], name };
  const cut = name.indexOf(PREFIX_SEPARATOR);
  if (cut <= 0) return undefined;
  const serverName = name.slice(0, cut);
  const source = sources.find((candidate) => candidate.name === serverName);
  return source && { source, name: name.slice(cut + PREFIX_SEPARATOR.length) };
}

/** Whether a source can be part of the aggregated endpoint: its name can be split off again. */
export function aggregatable(name: string): boolean {
  return name !== "" && !name.includes(PREFIX_SEPARATOR);
}

/** How long a client's first request waits for its sources to be known, at most (they connect in the background). */
export const FIRST_OUTCOME_WAIT_MS = 10_000;

/**
 * Waits (at most FIRST_OUTCOME_WAIT_MS) until every source's offering is known: a 2025 session declares its
 * capabilities once, at `initialize`, so one opened while its upstream still connects would lack resources and
 * prompts for its whole life. Synchronous (undefined) in the usual case, where every source is known.
 */
export function whenKnown(scope: FaceScope): Promise<unknown> | undefined {
  const waiting = scope.sources().filter((source) => !source.known);
  return waiting.length === 0
    ? undefined
    : Promise.all(waiting.map((source) => source.whenKnown(FIRST_OUTCOME_WAIT_MS)));
}

/** What the endpoint declares: tools always (the list may be empty), the rest when a source's upstream has it. */
export function capabilitiesOf(scope: FaceScope): ServerCapabilities {
  let resources = false;
  let prompts = false;
  let completions = false;
  let subscribe = false;
  for (const source of scope.sources()) {
    const upstream = source.connection.serverCapabilities;
    const offerings = source.connection.offerings;
    resources ||= upstream?.resources !== undefined || offerings.resources;
    prompts ||= upstream?.prompts !== undefined || offerings.prompts;
    completions ||= upstream?.completions !== undefined;
    // Subscriptions are the shared connection's (one per resource for all callers): not for a forwarding server.
    subscribe ||= upstream?.resources?.subscribe === true && !source.forwarding;
  }
  return {
    tools: { listChanged: true },
    logging: {},
    ...(resources ? { resources: { listChanged: true, ...(subscribe ? { subscribe: true } : {}) } } : {}),
    ...(prompts ? { prompts: { listChanged: true } } : {}),
    ...(completions ? { completions: {} } : {}),
  };
}
