/**
 * What metrics and tracing cost a tool call: the REST path over stdio (server-everything's echo, 16 callers, as the
 * target check measures it) through three mcpo-ts processes side by side, taking turns in interleaved rounds so
 * that drift in the machine's load falls on all alike:
 * - `metrics off`: `--no-metrics`;
 * - `default`: metrics on (the default);
 * - `access log`: the default plus `--access-log`;
 * - `tracing`: the default plus tracing, to an in-memory exporter registered by a `node --import` preload
 *   (bench/lib/otel-memory.ts), as a user's own OpenTelemetry setup would be.
 * Reported: medians of the rounds (req/s, p50, p99) and the medians of per-round ratios against `metrics off`. Then
 * `/metrics` of the default process, scraped after its load, must show every documented series (METRIC_FAMILIES).
 */
import { httpContender, launchMcpo, mcpoArgs, type Contender } from "./lib/contenders.js";
import { runLoad } from "./lib/load.js";
import { markdownTable, num } from "./lib/table.js";
import { transpileToBuild } from "./lib/transpile.js";
import { stdioUpstream } from "./lib/upstream.js";

export interface ObservePlan {
  rounds: number;
  warmupMs: number;
  windowMs: number;
}

export const OBSERVE_CONFIGS = ["metrics off", "default", "access log", "tracing"] as const;
const EXTRA_ARGS: Record<ObserveConfig, string[]> = {
  "metrics off": ["--no-metrics"],
  default: [],
  "access log": ["--access-log"],
  tracing: [],
};

/** The series docs/OPERATIONS.md documents, each of which a scrape after the load must show. */
export const METRIC_FAMILIES = [
  "mcpo_http_requests_total",
  "mcpo_http_request_duration_seconds",
  "mcpo_tool_calls_total",
  "mcpo_tool_call_duration_seconds",
  "mcpo_calls_in_flight",
  "mcpo_calls_queued",
  "mcpo_upstream_up",
  "mcpo_upstream_state",
  "mcpo_upstream_reconnects_total",
  "mcpo_upstream_errors_total",
  "mcpo_upstream_era",
  "mcpo_config_reloads_total",
  "mcpo_process_cpu_seconds_total",
  "mcpo_nodejs_eventloop_lag_seconds",
] as const;
export type ObserveConfig = (typeof OBSERVE_CONFIGS)[number];

export interface ObserveRow {
  config: ObserveConfig;
  /** Medians of the rounds. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Medians of the per-round ratios to `metrics off` (1 for it). */
  rpsRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  /** Spans the tracing process made (its preload's count at exit); undefined for the others. */
  spans?: number;
}

export interface ObserveResult {
  concurrency: number;
  rounds: number;
  rows: ObserveRow[];
  /** The default process's scrape after its load: the families it showed, and documented ones it lacked. */
  scrape?: { families: number; missing: string[]; toolCalls: number };
  failed?: string;
}

const CONCURRENCY = 16;
const ECHO_ARGS = { message: "hello from the bench" };

export async function runObservability(plan: ObservePlan, progress: (line: string) => void): Promise<ObserveResult> {
  const upstream = stdioUpstream("legacy");
  const preload = transpileToBuild(new URL("./lib/otel-memory.ts", import.meta.url));
  const started = new Map<ObserveConfig, Contender & { stderr(): string; url: string }>();
  try {
    for (const config of OBSERVE_CONFIGS) {
      const args = mcpoArgs(upstream, EXTRA_ARGS[config]);
      const { child, url } = await launchMcpo(config === "tracing" ? ["--import", preload, ...args] : args);
      started.set(config, {
        ...httpContender("mcpo", child, url, () => Promise.resolve("legacy")),
        stderr: child.stderr,
        url,
      });
    }
    const samples = new Map(
      OBSERVE_CONFIGS.map((config) => [config, [] as { rps: number; p50: number; p99: number }[]]),
    );
    for (let round = 0; round < plan.rounds; round++) {
      // Each configuration goes first in turn.
      const order = OBSERVE_CONFIGS.map((_, i) => OBSERVE_CONFIGS[(i + round) % OBSERVE_CONFIGS.length]!);
      for (const config of order) {
        const { call, close } = started.get(config)!.caller("echo", ECHO_ARGS, CONCURRENCY);
        try {
          const load = await runLoad(call, {
            concurrency: CONCURRENCY,
            warmupMs: plan.warmupMs,
            durationMs: plan.windowMs,
          });
          if (load.errors > 0) throw new Error(`${config}: ${load.errors} calls failed: ${load.firstError}`);
          samples.get(config)!.push({ rps: load.rps, p50: load.p50Ms, p99: load.p99Ms });
        } finally {
          close();
        }
      }
      progress(`observe round ${round + 1}/${plan.rounds}`);
    }
    const scrape = await scrapeMetrics(started.get("default")!.url);
    const tracing = started.get("tracing")!;
    await tracing.stop();
    const spans = /"msg":"bench spans","spans":(\d+)/.exec(tracing.stderr())?.[1];
    const base = samples.get("metrics off")!;
    const rows = OBSERVE_CONFIGS.map((config): ObserveRow => {
      const own = samples.get(config)!;
      const ratio = (key: "rps" | "p50" | "p99"): number => median(own.map((s, i) => s[key] / base[i]![key]));
      return {
        config,
        rps: median(own.map((s) => s.rps)),
        p50Ms: median(own.map((s) => s.p50)),
        p99Ms: median(own.map((s) => s.p99)),
        rpsRatio: ratio("rps"),
        p50Ratio: ratio("p50"),
        p99Ratio: ratio("p99"),
        ...(config === "tracing" && spans !== undefined ? { spans: Number(spans) } : {}),
      };
    });
    const failed = scrape.missing.length > 0 ? `/metrics lacks ${scrape.missing.join(", ")}` : undefined;
    return { concurrency: CONCURRENCY, rounds: plan.rounds, rows, scrape, ...(failed ? { failed } : {}) };
  } catch (error) {
    const failed = error instanceof Error ? error.message : String(error);
    return { concurrency: CONCURRENCY, rounds: plan.rounds, rows: [], failed };
  } finally {
    await Promise.all([...started.values()].map((contender) => contender.stop()));
  }
}

export function observabilityTable(result: ObserveResult): string {
  if (result.failed) return `not measured: ${result.failed}`;
  const { scrape } = result;
  const note = scrape
    ? `\n/metrics of the default process after its load: ${scrape.families} series families, every documented one ` +
      `present; mcpo_tool_calls_total{outcome="ok"} = ${scrape.toolCalls}`
    : "";
  return (
    markdownTable(
      [
        "mcpo-ts",
        "req/s",
        "p50 ms",
        "p99 ms",
        "req/s vs metrics off",
        "p50 vs metrics off",
        "p99 vs metrics off",
        "spans",
      ],
      result.rows.map((row) => [
        row.config,
        num(row.rps),
        num(row.p50Ms, 2),
        num(row.p99Ms, 2),
        `${row.rpsRatio.toFixed(3)}×`,
        `${row.p50Ratio.toFixed(3)}×`,
        `${row.p99Ratio.toFixed(3)}×`,
        row.spans === undefined ? "—" : String(row.spans),
      ]),
    ) + note
  );
}

/** GET /metrics: the `# TYPE` families it shows, the documented ones it lacks, and the ok tool calls it counted. */
async function scrapeMetrics(url: string): Promise<NonNullable<ObserveResult["scrape"]>> {
  const answer = await fetch(`${url}/metrics`);
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  const text = await answer.text();
  const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
  const toolCalls = [...text.matchAll(/^mcpo_tool_calls_total\{[^}]*outcome="ok"[^}]*\} (\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  return { families: families.size, missing: METRIC_FAMILIES.filter((name) => !families.has(name)), toolCalls };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}
