/**
 * Start-up cost of era negotiation: how long mcpo-ts takes from spawn to its
 * first successful tool call with `--protocol auto` (probe `server/discover`,
 * fall back to `initialize`) against `--protocol legacy` (straight to
 * `initialize`) on a 2025 server, and against `--protocol 2026-07-28` (the
 * same probe, no fallback) on a 2026-07-28-only server, which `legacy`
 * cannot reach at all. Over stdio and Streamable HTTP; the median of several
 * runs, each a fresh mcpo-ts.
 */
import { launchMcpo, mcpoArgs } from "./lib/contenders.js";
import { httpCaller } from "./lib/load.js";
import { percentile } from "./lib/stats.js";
import { markdownTable, num } from "./lib/table.js";
import {
  ERA_SERVER,
  startHttpUpstream,
  stdioUpstream,
  type Era,
  type RemoteUpstream,
  type TransportName,
} from "./lib/upstream.js";

export interface StartupPlan {
  transports: readonly TransportName[];
  /** Timed runs per row (after one discarded run that warms the disk cache and the JIT's code cache). */
  runs: number;
}

/** One server era, transport and `--protocol` value, over `runs` fresh starts. */
export interface StartupRow {
  serverEra: Era;
  transport: TransportName;
  protocol: string;
  runs: number;
  /** Medians: spawn to the `listening` log line, and spawn to the first POST /echo answered 200 with the echo. */
  listeningMs: number;
  firstCallMs: number;
  /**
   * Median from the `connecting to` to the `connected to` log line: transport, era negotiation, tools/list,
   * without mcpo-ts's own boot. Over HTTP the server is already up, so this is where the probe shows.
   */
  connectMs: number;
  firstCallMinMs: number;
  firstCallMaxMs: number;
  failed?: string;
}

/** What each server era is started with: auto against the protocol that needs no probe decision. */
const PROTOCOLS: Readonly<Record<Era, readonly string[]>> = {
  legacy: ["auto", "legacy"],
  modern: ["auto", "2026-07-28"],
};
const ERA_ORDER: readonly Era[] = ["legacy", "modern"];
const MESSAGE = "start-up";

export async function runStartup(plan: StartupPlan, progress: (line: string) => void): Promise<StartupRow[]> {
  const rows: StartupRow[] = [];
  for (const serverEra of ERA_ORDER) {
    for (const transport of plan.transports) {
      let remote: RemoteUpstream | undefined;
      try {
        // One HTTP upstream serves every run of this era: its own start-up is not what is measured.
        remote = transport === "streamable-http" ? await startHttpUpstream(serverEra) : undefined;
        const upstream = remote?.upstream ?? stdioUpstream(serverEra);
        const protocols = PROTOCOLS[serverEra];
        const samples = new Map(protocols.map((protocol) => [protocol, emptySample()]));
        const failures = new Map<string, string>();
        // The protocols take turns run by run, so a change in the machine's load falls on both alike.
        for (let run = 0; run <= plan.runs; run++) {
          for (const protocol of protocols) {
            if (failures.has(protocol)) continue;
            try {
              const timing = await timeStart(mcpoArgs(upstream, ["--protocol", protocol]));
              if (run === 0) continue; // the discarded first run
              const sample = samples.get(protocol)!;
              sample.listening.push(timing.listeningMs);
              sample.firstCall.push(timing.firstCallMs);
              sample.connect.push(timing.connectMs);
            } catch (error) {
              failures.set(protocol, error instanceof Error ? error.message : String(error));
            }
          }
        }
        for (const protocol of protocols) {
          const sample = samples.get(protocol)!;
          const row = summarize(serverEra, transport, protocol, sample, failures.get(protocol));
          progress(
            `start-up ${serverEra} server ${transport} --protocol ${protocol}: ` +
              (row.failed ?? `first call ${row.firstCallMs.toFixed(0)} ms (median of ${row.runs})`),
          );
          rows.push(row);
        }
      } catch (error) {
        for (const protocol of PROTOCOLS[serverEra]) {
          const failed = error instanceof Error ? error.message : String(error);
          rows.push(summarize(serverEra, transport, protocol, emptySample(), failed));
        }
      } finally {
        await remote?.child.stop();
      }
    }
  }
  return rows;
}

interface Timing {
  listeningMs: number;
  firstCallMs: number;
  connectMs: number;
}

async function timeStart(args: readonly string[]): Promise<Timing> {
  let caller: ReturnType<typeof httpCaller> | undefined;
  const launched = await launchMcpo(args, {
    // Ready means a tool call went through: connected, era settled, tools listed, route built.
    isReady: async (url) => {
      caller ??= httpCaller(`${url}/echo`, JSON.stringify({ message: MESSAGE }), 1);
      try {
        return (await caller.call()) > MESSAGE.length;
      } catch {
        return false; // 404 or 503 until the upstream is connected
      }
    },
  });
  caller?.close();
  await launched.child.stop();
  const connectMs =
    logTime(launched.child.stderr(), "connected to") - logTime(launched.child.stderr(), "connecting to");
  return { listeningMs: launched.listeningMs, firstCallMs: launched.readyMs, connectMs };
}

/** The `time` of the first JSON log line whose message starts with `message` (ms since the epoch), or NaN. */
function logTime(stderr: string, message: string): number {
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{") || !line.includes(message)) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: string | number };
    if (entry.msg?.startsWith(message) && entry.time !== undefined) return new Date(entry.time).getTime();
  }
  return NaN;
}

interface Sample {
  listening: number[];
  firstCall: number[];
  connect: number[];
}

function emptySample(): Sample {
  return { listening: [], firstCall: [], connect: [] };
}

function summarize(
  serverEra: Era,
  transport: TransportName,
  protocol: string,
  sample: Sample,
  failed: string | undefined,
): StartupRow {
  const median = (values: number[]): number => percentile(Float64Array.from(values).sort(), 50);
  const calls = sample.firstCall;
  return {
    serverEra,
    transport,
    protocol,
    runs: calls.length,
    listeningMs: median(sample.listening),
    firstCallMs: median(sample.firstCall),
    connectMs: median(sample.connect),
    firstCallMinMs: calls.length > 0 ? Math.min(...calls) : NaN,
    firstCallMaxMs: calls.length > 0 ? Math.max(...calls) : NaN,
    ...(failed === undefined ? {} : { failed }),
  };
}

export function startupTable(rows: readonly StartupRow[]): string {
  const reference = (row: StartupRow): StartupRow | undefined =>
    rows.find(
      (r) =>
        r.serverEra === row.serverEra && r.transport === row.transport && r.protocol === PROTOCOLS[row.serverEra][1],
    );
  const headers = [
    "server",
    "transport",
    "--protocol",
    "runs",
    "listening ms",
    "first call ms",
    "min–max ms",
    "auto − other, first call ms",
    "connect ms",
    "auto − other, connect ms",
  ];
  const cells = rows.map((row) => {
    const other = reference(row);
    return [
      ERA_SERVER[row.serverEra],
      row.transport,
      row.failed ? `${row.protocol} (failed)` : row.protocol,
      String(row.runs),
      num(row.listeningMs),
      num(row.firstCallMs),
      `${num(row.firstCallMinMs)}–${num(row.firstCallMaxMs)}`,
      row.protocol === "auto" && other ? signed(row.firstCallMs - other.firstCallMs) : "",
      num(row.connectMs, 1),
      row.protocol === "auto" && other ? signed(row.connectMs - other.connectMs, 1) : "",
    ];
  });
  return markdownTable(headers, cells);
}

function signed(ms: number, digits = 0): string {
  if (!Number.isFinite(ms)) return "—";
  return `${ms >= 0 ? "+" : "−"}${Math.abs(ms).toFixed(digits)}`;
}
