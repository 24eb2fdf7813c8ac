import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Low-cardinality kinds of HTTP routes (the `route` label): never a path, so never a user's input. */
export type RouteKind = "tool" | "mcp" | "openapi" | "docs" | "health" | "metrics" | "probe" | "operation" | "other";

/** How a tool call ended (the `outcome` label). */
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
const CALL_OUTCOMES = ["ok", "tool_error", "bad_request", "timeout", "unavailable", "error"] as const;
/** Kinds of `mcpo_upstream_errors_total`: a ready connection lost, or an attempt ending in that state. */
const ERROR_KINDS = ["lost", "down", "incompatible", "unauthorized"] as const;

/**
 * The `server` label of a server: its name, or `default` for the one server of single-server mode (which has no
 * name; its transport's description would put a command path or a URL in a label).
 */
export function serverLabel(name: string): string {
  return name || "default";
}

/** Tool call latency buckets in seconds: from a fast local tool up to the default tool timeout (300 s). */
const TOOL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** HTTP request latency buckets in seconds (a tool call's answer included). */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The numbers one server's limiter shows, read at scrape time. */
export interface CallLoad {
  readonly inFlight: number;
  readonly queued: number;
}

/** What a server's connection reports to its metrics (src/upstream/connection.ts calls these). */
export interface ServerMetrics {
  /** A tool call ended: by the upstream (ok, tool_error) or by a failure (its outcome). */
  toolCall(tool: string, outcome: CallOutcome, seconds: number): void;
}

/**
 * The proxy's Prometheus metrics, in a registry of its own (not prom-client's global one), so that two proxies in
 * one process (tests, a library user) never share or collide. Series are named `mcpo_*`; labels carry route kinds,
 * server and tool names, outcomes and states, never users, keys, arguments or URLs.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<"route" | "method" | "status">;
  readonly #httpDuration: Histogram<"route">;
  readonly #toolCalls: Counter<"server" | "tool" | "outcome">;
  readonly #toolDuration: Histogram<"server" | "tool">;
  readonly #up: Gauge<"server">;
  readonly #state: Gauge<"server" | "state">;
  readonly #reconnects: Counter<"server">;
  readonly #upstreamErrors: Counter<"server" | "kind">;
  readonly #era: Gauge<"server" | "era">;
  readonly #reloads: Counter<"outcome">;
  /** Each server's limiter, read when scraped (cheaper than counting up and down on every call). */
  readonly #loads = new Map<string, () => CallLoad>();
  /**
   * What each server's gauges show (so a change removes the old series) and the tools it counted: prom-client
   * removes a series by its exact labels only, and a removed server's series must all go.
   */
  readonly #shown = new Map<string, Shown>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "mcpo_" });
    this.#httpRequests = new Counter({
      name: "mcpo_http_requests_total",
      help: "HTTP requests answered, by route kind, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.#httpDuration = new Histogram({
      name: "mcpo_http_request_duration_seconds",
      help: "Time from a request's arrival to the end of its answer, by route kind",
      labelNames: ["route"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#toolCalls = new Counter({
      name: "mcpo_tool_calls_total",
      help: "Tool calls (REST and MCP) by server, tool and outcome",
      labelNames: ["server", "tool", "outcome"],
      registers,
    });
    this.#toolDuration = new Histogram({
      name: "mcpo_tool_call_duration_seconds",
      help: "Tool call latency, waits for a reconnect or a slot included",
      labelNames: ["server", "tool"],
      buckets: TOOL_BUCKETS,
      registers,
    });
    const loads = this.#loads;
    new Gauge({
      name: "mcpo_calls_in_flight",
      help: "Calls (tools and other requests) running upstream now, per server",
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const [server, load] of loads) this.set({ server }, load().inFlight);
      },
    });
    new Gauge({
      name: "mcpo_calls_queued",
      help: "Calls waiting for a free slot (max_concurrency), per server",
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const [server, load] of loads) this.set({ server }, load().queued);
      },
    });
    this.#up = new Gauge({
      name: "mcpo_upstream_up",
      help: "1 when the server's connection is ready, else 0",
      labelNames: ["server"],
      registers,
    });
    this.#state = new Gauge({
      name: "mcpo_upstream_state",
      help: "1 for the server connection's current state",
      labelNames: ["server", "state"],
      registers,
    });
    this.#reconnects = new Counter({
      name: "mcpo_upstream_reconnects_total",
      help: "Times a ready connection was lost and reconnecting began",
      labelNames: ["server"],
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: "mcpo_upstream_errors_total",
      help: "Connection failures by kind: lost, down, incompatible, unauthorized",
      labelNames: ["server", "kind"],
      registers,
    });
    this.#era = new Gauge({
      name: "mcpo_upstream_era",
      help: "1 for the protocol era of the server's connection (legacy: 2025 revisions, modern: 2026-07-28)",
      labelNames: ["server", "era"],
      registers,
    });
    this.#reloads = new Counter({
      name: "mcpo_config_reloads_total",
      help: "Config file reloads by outcome (applied, invalid, failed)",
      labelNames: ["outcome"],
      registers,
    });
  }

  /** One HTTP answer, counted when it is finished (or the connection closed). */
  httpRequest(route: RouteKind, method: string, status: number, seconds: number): void {
    this.#httpRequests.inc({ route, method, status });
    this.#httpDuration.observe({ route }, seconds);
  }

  /** A tool call of `server` that ended. */
  toolCall(server: string, tool: string, outcome: CallOutcome, seconds: number): void {
    this.#shownOf(server).tools.add(tool);
    this.#toolCalls.inc({ server, tool, outcome });
    this.#toolDuration.observe({ server, tool }, seconds);
  }

  /** A tool call refused for its arguments before it went upstream: counted (`bad_request`), not timed. */
  badToolInput(server: string, tool: string): void {
    this.#shownOf(server).tools.add(tool);
    this.#toolCalls.inc({ server, tool, outcome: "bad_request" });
  }

  /** The observer a server's connection reports its calls to. */
  forServer(server: string): ServerMetrics {
    return { toolCall: (tool, outcome, seconds) => this.toolCall(server, tool, outcome, seconds) };
  }

  /** Reads `load` of `server` at each scrape. */
  watchLoad(server: string, load: () => CallLoad): void {
    this.#loads.set(server, load);
  }

  /** A server connection's new state (connecting, ready, reconnecting, down, incompatible, unauthorized, closed). */
  upstreamState(server: string, state: string): void {
    const shown = this.#shownOf(server);
    if (shown.state !== undefined) this.#state.remove({ server, state: shown.state });
    shown.state = state;
    this.#state.set({ server, state }, 1);
    this.#up.set({ server }, state === "ready" ? 1 : 0);
    if (state === "reconnecting") {
      this.#reconnects.inc({ server });
      this.#upstreamErrors.inc({ server, kind: "lost" });
    } else if (state === "down" || state === "incompatible" || state === "unauthorized") {
      this.#upstreamErrors.inc({ server, kind: state });
    }
  }

  /** The protocol era the server's connection speaks. */
  upstreamEra(server: string, era: string): void {
    const shown = this.#shownOf(server);
    if (shown.era === era) return;
    if (shown.era !== undefined) this.#era.remove({ server, era: shown.era });
    shown.era = era;
    this.#era.set({ server, era }, 1);
  }

  configReload(outcome: "applied" | "invalid" | "failed"): void {
    this.#reloads.inc({ outcome });
  }

  /** Every series of a server that is gone (hot reload removed it), so dashboards do not show it frozen. */
  removeServer(server: string): void {
    const shown = this.#shown.get(server);
    this.#loads.delete(server);
    this.#shown.delete(server);
    if (!shown) return;
    for (const tool of shown.tools) {
      this.#toolDuration.remove({ server, tool });
      for (const outcome of CALL_OUTCOMES) this.#toolCalls.remove({ server, tool, outcome });
    }
    for (const kind of ERROR_KINDS) this.#upstreamErrors.remove({ server, kind });
    if (shown.state !== undefined) this.#state.remove({ server, state: shown.state });
    if (shown.era !== undefined) this.#era.remove({ server, era: shown.era });
    this.#up.remove({ server });
    this.#reconnects.remove({ server });
  }

  /** The Prometheus text exposition of every series. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #shownOf(server: string): Shown {
    let shown = this.#shown.get(server);
    if (!shown) this.#shown.set(server, (shown = { tools: new Set() }));
    return shown;
  }
}

interface Shown {
  state?: string;
  era?: string;
  readonly tools: Set<string>;
}
