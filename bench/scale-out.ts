/**
 * Scale-out: N replicas of the built CLI (same config file: server-everything over stdio, each replica its own
 * child) behind a round-robin balancer (bench/lib/balancer.ts), REST tool calls (`echo`) at a fixed concurrency.
 * Reports calls/s, p50 and p99 per N with the ratio to N = 1, a row straight to one replica (the balancer's own
 * cost), each replica's footprint, and what callers see when a replica is SIGKILLed, or SIGTERMed (drained), under
 * load. Run by `npm run bench -- --only scale` (about 80 s on 2 loaded cores), and as part of the full run.
 *
 * On a machine with fewer cores than replicas plus balancer plus load generator, the replicas share the cores: the
 * figures show the cost of the hop and what a failure costs callers, not how throughput grows with nodes.
 */
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { CLI, launchMcpo } from "./lib/contenders.js";
import { startBalancer } from "./lib/balancer.js";
import { emptyFailover, stopOne, type FailoverRow, type Replica } from "./scale-out-failover.js";

export type { FailoverRow } from "./scale-out-failover.js";
import { httpCaller, runLoad } from "./lib/load.js";
import { descendants, memory } from "./lib/proc.js";
import { markdownTable, num, ratio } from "./lib/table.js";
import { everythingStdio } from "./lib/upstream.js";
import { configFile } from "../test/helpers/config-file.js";

export interface ScaleOutPlan {
  /** Replica counts behind the balancer, e.g. [1, 2, 3]. */
  replicas: readonly number[];
  /** Calls in flight at all times (through the balancer, or straight to one replica). */
  concurrency: number;
  /** Throughput rounds: every setup once per round, interleaved; the table shows the medians. */
  rounds: number;
  warmupMs: number;
  windowMs: number;
  failover: {
    /** Replicas behind the balancer when one is stopped (the last one is). */
    replicas: number;
    windowMs: number;
    /** When, after the window opens, the signal is sent. */
    signalAtMs: number;
    signals: readonly ("SIGKILL" | "SIGTERM")[];
  };
}

export const SCALE_OUT: ScaleOutPlan = {
  replicas: [1, 2, 3],
  concurrency: 32,
  rounds: 2,
  warmupMs: 1000,
  windowMs: 4000,
  failover: { replicas: 3, windowMs: 8000, signalAtMs: 2500, signals: ["SIGKILL", "SIGTERM"] },
};

/** The server's name in the config file and the REST path of its echo tool. */
const SERVER = "everything";
const TOOL_PATH = `/${SERVER}/echo`;
const BODY = JSON.stringify({ message: "scale-out" });

export interface ThroughputRow {
  /** "direct": straight to one replica; "balancer": through the balancer to `replicas` replicas. */
  setup: "direct" | "balancer";
  replicas: number;
  /** Medians over the rounds. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Over all rounds. */
  requests: number;
  errors: number;
  firstError?: string;
}

export interface Footprint {
  /** The replica's process plus its stdio children. */
  processes: number;
  rssMb: number;
}

export interface ScaleOutResult {
  plan: ScaleOutPlan;
  cpus: number;
  throughput: ThroughputRow[];
  footprint: Footprint[];
  failover: FailoverRow[];
}

export async function runScaleOut(plan: ScaleOutPlan, progress: (line: string) => void): Promise<ScaleOutResult> {
  const upstream = everythingStdio();
  if (upstream.transport !== "stdio") throw new Error("server-everything is expected over stdio");
  // One config file for every replica, as one ConfigMap is for every pod; each replica starts its own child.
  const config = configFile({ mcpServers: { [SERVER]: { command: upstream.command, args: upstream.args } } });
  const count = Math.max(...plan.replicas, plan.failover.replicas);
  const replicas: Replica[] = [];
  const launch = async (): Promise<Replica> => {
    // --shutdown-delay as the Helm chart passes it (shorter: the balancer polls every 500 ms, not every 5 s).
    const { child, url } = await launchMcpo([
      CLI,
      ...["--host", "127.0.0.1", "--port", "0", "--config", config.path, "--shutdown-delay", "1"],
    ]);
    return { child, url };
  };
  try {
    progress(`starting ${count} replicas of ${TOOL_PATH}`);
    replicas.push(...(await Promise.all(Array.from({ length: count }, launch))));

    const setups = [
      { setup: "direct" as const, replicas: 1 },
      ...plan.replicas.map((n) => ({ setup: "balancer" as const, replicas: n })),
    ];
    const samples = setups.map(() => [] as Awaited<ReturnType<typeof measure>>[]);
    for (let round = 0; round < plan.rounds; round++) {
      for (const [i, setup] of setups.entries()) {
        const backends = replicas.slice(0, setup.replicas).map((replica) => replica.url);
        samples[i]!.push(await measure(setup.setup === "direct" ? backends[0]! : undefined, backends, plan));
        const last = samples[i]!.at(-1)!;
        progress(
          `round ${round + 1}: ${setup.setup} ×${setup.replicas}: ${last.rps.toFixed(0)} calls/s, p99 ` +
            `${last.p99Ms.toFixed(2)} ms, ${last.errors} errors`,
        );
      }
    }
    const throughput = setups.map((setup, i): ThroughputRow => {
      const runs = samples[i]!;
      const firstError = runs.find((run) => run.firstError)?.firstError;
      return {
        ...setup,
        rps: median(runs.map((run) => run.rps)),
        p50Ms: median(runs.map((run) => run.p50Ms)),
        p99Ms: median(runs.map((run) => run.p99Ms)),
        requests: runs.reduce((sum, run) => sum + run.requests, 0),
        errors: runs.reduce((sum, run) => sum + run.errors, 0),
        ...(firstError === undefined ? {} : { firstError }),
      };
    });
    const footprint = replicas.map(({ child }) => footprintOf(child.pid));

    const failover: FailoverRow[] = [];
    for (const signal of plan.failover.signals) {
      const group = replicas.slice(0, plan.failover.replicas);
      const row = await stopOne(signal, group, plan, { path: TOOL_PATH, body: BODY }).catch(
        (error: unknown): FailoverRow => ({
          ...emptyFailover(signal, group.length),
          failed: String(error),
        }),
      );
      failover.push(row);
      progress(
        `${signal}: ${row.errors} caller errors, recovered in ${row.recoverMs.toFixed(0)} ms, ` +
          `${row.rpsBefore.toFixed(0)} → ${row.rpsAfter.toFixed(0)} calls/s`,
      );
      // The stopped replica is replaced, so the next signal meets a full set again.
      const victim = group.at(-1)!;
      await victim.child.stop();
      if (signal !== plan.failover.signals.at(-1)) replicas[replicas.indexOf(victim)] = await launch();
    }
    return { plan, cpus: cpus().length, throughput, footprint, failover };
  } finally {
    await Promise.all(replicas.map((replica) => replica.child.stop()));
    rmSync(dirname(config.path), { recursive: true, force: true });
  }
}

/** One window: straight to `direct` when given, else through a fresh balancer in front of `backends`. */
async function measure(direct: string | undefined, backends: readonly string[], plan: ScaleOutPlan) {
  const balancer = direct === undefined ? await startBalancer({ backends }) : undefined;
  const caller = httpCaller(`${direct ?? balancer!.url}${TOOL_PATH}`, BODY, plan.concurrency);
  try {
    return await runLoad(caller.call, {
      concurrency: plan.concurrency,
      warmupMs: plan.warmupMs,
      durationMs: plan.windowMs,
    });
  } finally {
    caller.close();
    await balancer?.close();
  }
}

function footprintOf(pid: number): Footprint {
  const pids = [pid, ...descendants(pid)];
  return { processes: pids.length, rssMb: pids.reduce((sum, each) => sum + memory(each).rssMb, 0) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** How many figures could not be made: failover rows that failed, and any call that failed in a throughput row. */
export function scaleOutFailed(result: ScaleOutResult): number {
  return result.failover.filter((row) => row.failed).length;
}

export function scaleOutTables(result: ScaleOutResult): string {
  const one = result.throughput.find((row) => row.setup === "balancer" && row.replicas === 1);
  const throughput = markdownTable(
    ["setup", "replicas", "calls/s", "vs N=1", "p50 ms", "p99 ms", "errors"],
    result.throughput.map((row) => [
      row.setup === "direct" ? "direct (no balancer)" : "balancer",
      String(row.replicas),
      num(row.rps),
      ratio(row.rps, one?.rps),
      num(row.p50Ms, 2),
      num(row.p99Ms, 2),
      String(row.errors),
    ]),
  );
  const footprint = markdownTable(
    ["replica", "processes", "RSS MiB"],
    result.footprint.map((row, i) => [String(i + 1), String(row.processes), num(row.rssMb, 1)]),
  );
  const failover = markdownTable(
    ["signal", "replicas", "caller errors", "kinds", "marked down ms", "recover ms", "calls/s before", "after"].concat([
      "retried (refused / shutting_down)",
    ]),
    result.failover.map((row) => [
      row.failed ? `${row.signal} (failed)` : row.signal,
      String(row.replicas),
      String(row.errors),
      Object.entries(row.errorKinds)
        .map(([kind, n]) => `${n}× ${kind}`)
        .join(", ") || "none",
      num(row.markedDownMs),
      num(row.recoverMs),
      num(row.rpsBefore),
      num(row.rpsAfter),
      `${row.retried.refused} / ${row.retried.shuttingDown}`,
    ]),
  );
  const { plan } = result;
  return [
    `Scale-out (REST ${TOOL_PATH}, concurrency ${plan.concurrency}, ${plan.warmupMs / 1000} s warm-up, ` +
      `${plan.windowMs / 1000} s measured, medians of ${plan.rounds} rounds; ${result.cpus} cores shared by ` +
      "replicas, their children, the balancer and the load)",
    throughput,
    "",
    "Each replica (the CLI and its stdio server)",
    footprint,
    "",
    `One replica of ${plan.failover.replicas} stopped ${plan.failover.signalAtMs / 1000} s into a ` +
      `${plan.failover.windowMs / 1000} s window`,
    failover,
  ].join("\n");
}
