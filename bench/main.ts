/**
 * npm run bench [-- --quick] [-- --out file.json] [-- --duration s --warmup s]
 *               [-- --only overhead,target,startup,growth,mcp,observe,scale] [-- --eras legacy,modern] [-- --contenders floor,thin,mcpo]
 *
 * Measures, in one run on loopback, what mcpo-ts adds to a tool call next to
 * the floor (SDK client, no HTTP) and a thin node:http bridge, for both
 * protocol eras (a 2025 server and a 2026-07-28 one), and whether the target
 * holds in each (checked side by side, interleaved); then the start-up cost
 * of era negotiation, and the growth figures (payload size, tool and server
 * counts, idle memory); then the MCP path (an MCP client through mcpo-ts's
 * MCP endpoint, next to a direct client and a thin MCP-to-MCP bridge); then what metrics and tracing cost (observe,
 * bench/observability.ts); then scale-out (1, 2 and 3 replicas behind a round-robin balancer, and a replica
 * killed or drained under load; about 80 s, `--only scale` alone). Prints the tables and writes them as JSON
 * (bench/results/latest.json by default).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  FACE_VERSION,
  mcpPathFailed,
  mcpPathTable,
  mcpRatiosTable,
  runMcpPath,
  type McpPathPlan,
  type McpPathResult,
} from "./mcp-path.js";
import { growthFailed, growthTables, runGrowth, type GrowthResult } from "./growth.js";
import { observabilityTable, runObservability, type ObservePlan, type ObserveResult } from "./observability.js";
import { runScaleOut, SCALE_OUT, scaleOutFailed, scaleOutTables, type ScaleOutResult } from "./scale-out.js";
import { stopAllChildren } from "./lib/children.js";
import { CONTENDER_NAMES, CONTENDERS } from "./lib/contenders.js";
import { ERA_SERVER, ERAS, type Era } from "./lib/upstream.js";
import { countProcessWarnings } from "./lib/warnings.js";
import { erasTable, overheadTable, runOverhead, type OverheadPlan, type OverheadRow } from "./overhead.js";
import { runStartup, startupTable, type StartupPlan, type StartupRow } from "./startup.js";
import {
  describeTargets,
  runTargetCheck,
  targetFromRows,
  targetTable,
  type TargetPlan,
  type TargetVerdict,
} from "./target.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));

// The full run adds the thin bridge on the v1 client to the legacy era: what the v1 to v2 client move costs any
// proxy, next to what mcpo-ts adds (ratios stay relative to the v2 bridge, the baseline of both eras).
const FULL: OverheadPlan = {
  eras: ERAS,
  transports: ["stdio", "streamable-http"],
  concurrencies: [1, 16, 64],
  contenders: ["floor", "thin-v1", "thin", "mcpo"],
  warmupMs: 1000,
  durationMs: 5000,
};
// A smoke test of the harness, not a measurement: stdio only, one concurrency, half a second each, both eras
// (the row the target is judged on), kept short because it runs inside npm test next to timing-sensitive e2e tests.
const QUICK: OverheadPlan = {
  ...FULL,
  transports: ["stdio"],
  concurrencies: [16],
  contenders: CONTENDERS,
  warmupMs: 200,
  durationMs: 500,
};
const STARTUP: StartupPlan = { transports: ["stdio", "streamable-http"], runs: 7 };
// About 40 s per era: 12 turns of each contender, 0.3 s warm-up and 1.5 s measured.
const TARGET_CHECK: Omit<TargetPlan, "eras"> = { rounds: 12, warmupMs: 300, windowMs: 1500 };

// About 65 s per era: 6 rounds of 3 paths at 2 concurrencies, 0.3 s warm-up and 1.5 s measured each.
const MCP_PATH: Omit<McpPathPlan, "eras"> = { concurrencies: [1, 16], rounds: 6, warmupMs: 300, windowMs: 1500 };
const MCP_PATH_QUICK: Omit<McpPathPlan, "eras"> = { concurrencies: [1, 16], rounds: 2, warmupMs: 200, windowMs: 500 };

// About 45 s: 6 rounds of 4 configurations, 0.3 s warm-up and 1.5 s measured each.
const OBSERVE: ObservePlan = { rounds: 6, warmupMs: 300, windowMs: 1500 };
const OBSERVE_QUICK: ObservePlan = { rounds: 2, warmupMs: 200, windowMs: 500 };

const SECTIONS = ["overhead", "target", "startup", "growth", "mcp", "observe", "scale"] as const;
type Section = (typeof SECTIONS)[number];

interface Report {
  mode: "full" | "quick";
  date: string;
  commit: string;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string; memoryGb: number };
  /** 1-minute load average at start and end: anything else running skews every figure. */
  loadAverage: { start: number; end: number };
  plan: OverheadPlan;
  /** Which era's upstream is which server. */
  servers: Readonly<Record<Era, string>>;
  overhead: OverheadRow[];
  /** Whether mcpo-ts meets the target (stdio, concurrency 16) against the thin bridge, per era. */
  target: TargetVerdict[];
  targetPlan?: TargetPlan;
  startup?: StartupRow[];
  growth?: GrowthResult;
  mcp?: McpPathResult;
  observe?: ObserveResult;
  scale?: ScaleOutResult;
  durationS: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      only: { type: "string" },
      eras: { type: "string" },
      contenders: { type: "string" },
      "overhead-only": { type: "boolean", default: false },
    },
  });
  const startedAt = performance.now();
  const loadAtStart = loadavg()[0]!;
  if (loadAtStart > cpus().length / 2) {
    process.stderr.write(
      `warning: load average ${loadAtStart.toFixed(1)} on ${cpus().length} cores: expect noisy figures\n`,
    );
  }
  const quick = values.quick === true;
  const plan: OverheadPlan = {
    ...(quick ? QUICK : FULL),
    ...(values.duration ? { durationMs: seconds(values.duration, "--duration") } : {}),
    ...(values.warmup ? { warmupMs: seconds(values.warmup, "--warmup") } : {}),
    ...(values.eras ? { eras: list(values.eras, ERAS, "--eras") } : {}),
    ...(values.contenders ? { contenders: list(values.contenders, CONTENDER_NAMES, "--contenders") } : {}),
  };
  // --quick measures the overhead only; --overhead-only is kept as a synonym of --only overhead.
  const sections: readonly Section[] = values.only
    ? list(values.only, SECTIONS, "--only")
    : quick || values["overhead-only"]
      ? ["overhead"]
      : SECTIONS;
  const out = resolve(values.out ?? `${REPO}bench/results/${quick ? "quick" : "latest"}.json`);
  const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);

  let overhead: OverheadRow[] = [];
  if (sections.includes("overhead")) {
    process.stderr.write(
      `overhead: ${plan.eras.join(" and ")} era, ${plan.transports.join(", ")} at concurrency ` +
        `${plan.concurrencies.join(", ")}; ${plan.eras.map((era) => `${era} = ${ERA_SERVER[era]}`).join(", ")}\n`,
    );
    overhead = await runOverhead(plan, progress);
    process.stdout.write(`\n${overheadTable(overhead)}\n`);
    process.stdout.write(`\nmcpo-ts against the thin bridge, era by era\n${erasTable(overhead, plan.eras)}\n`);
  }
  let target = targetFromRows(overhead, plan.eras);
  const targetPlan: TargetPlan = { eras: plan.eras, ...TARGET_CHECK };
  if (sections.includes("target")) {
    process.stderr.write(`\ntarget: thin bridge and mcpo-ts side by side, ${targetPlan.rounds} interleaved rounds\n`);
    target = await runTargetCheck(targetPlan, progress);
    process.stdout.write(`\nTarget check (stdio, concurrency 16, interleaved)\n${targetTable(target)}\n`);
  }
  if (sections.includes("overhead") || sections.includes("target")) {
    process.stdout.write(`\n${describeTargets(target)}\n`);
  }

  let startup: StartupRow[] | undefined;
  if (sections.includes("startup")) {
    process.stderr.write(`\nstart-up: --protocol auto against legacy (2025 server) and 2026-07-28 (modern server)\n`);
    startup = await runStartup(STARTUP, progress);
    process.stdout.write(`\nStart-up to the first tool call (median of ${STARTUP.runs})\n${startupTable(startup)}\n`);
  }

  let growth: GrowthResult | undefined;
  if (sections.includes("growth")) {
    process.stderr.write("\ngrowth\n");
    growth = await runGrowth(progress);
    process.stdout.write(`\n${growthTables(growth)}\n`);
  }

  let mcp: McpPathResult | undefined;
  if (sections.includes("mcp")) {
    const mcpPlan: McpPathPlan = { eras: plan.eras, ...(quick ? MCP_PATH_QUICK : MCP_PATH) };
    process.stderr.write(
      `\nmcp path: direct client, thin MCP bridge and mcpo-ts's MCP endpoint, ${mcpPlan.rounds} interleaved rounds\n`,
    );
    mcp = await runMcpPath(mcpPlan, progress);
    const faces = mcpPlan.eras.map((era) => `${FACE_VERSION[era]} to ${ERA_SERVER[era]}`).join(", ");
    process.stdout.write(`\nMCP path (stdio upstreams; ${faces}; medians of rounds)\n${mcpPathTable(mcp)}\n`);
    process.stdout.write(`\nMCP path ratios (medians of per-round ratios)\n${mcpRatiosTable(mcp)}\n`);
  }

  let observe: ObserveResult | undefined;
  if (sections.includes("observe")) {
    const observePlan = quick ? OBSERVE_QUICK : OBSERVE;
    process.stderr.write(
      `\nobserve: metrics off, default, access log and tracing (in-memory exporter) side by side, ${observePlan.rounds} interleaved rounds\n`,
    );
    observe = await runObservability(observePlan, progress);
    process.stdout.write(
      `\nMetrics and tracing (stdio, server-everything echo, concurrency ${observe.concurrency}; medians of rounds)\n` +
        `${observabilityTable(observe)}\n`,
    );
  }

  let scale: ScaleOutResult | undefined;
  if (sections.includes("scale")) {
    process.stderr.write(
      `\nscale-out: ${SCALE_OUT.replicas.join(", ")} replicas behind a round-robin balancer, then one stopped\n`,
    );
    scale = await runScaleOut(SCALE_OUT, progress);
    process.stdout.write(`\n${scaleOutTables(scale)}\n`);
  }

  const report: Report = {
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    commit: commit(),
    machine: machine(),
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
    plan,
    servers: ERA_SERVER,
    overhead,
    target,
    ...(sections.includes("target") ? { targetPlan } : {}),
    ...(startup ? { startup } : {}),
    ...(growth ? { growth } : {}),
    ...(mcp ? { mcp } : {}),
    ...(observe ? { observe } : {}),
    ...(scale ? { scale } : {}),
    durationS: (performance.now() - startedAt) / 1000,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${describeMachine(report)}; ${report.durationS.toFixed(1)} s; wrote ${out}\n`);

  const failed =
    overhead.filter((row) => row.failed).length +
    target.filter((verdict) => verdict.failed).length +
    (startup?.filter((row) => row.failed).length ?? 0) +
    (growth ? growthFailed(growth) : 0) +
    (mcp ? mcpPathFailed(mcp) : 0) +
    (observe?.failed ? 1 : 0) +
    (scale ? scaleOutFailed(scale) : 0);
  const errors = overhead.reduce((sum, row) => sum + row.errors, 0);
  if (errors > 0) process.stderr.write(`warning: ${errors} calls failed during measurement (see "errors")\n`);
  if (failed > 0) process.stderr.write(`error: ${failed} measurements could not be made (see "failed")\n`);
  return failed > 0 ? 1 : 0;
}

function seconds(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} takes a number of seconds, got "${text}"`);
  return value * 1000;
}

/** A comma-separated option, each item checked against what it may be. */
function list<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(",").map((item) => item.trim());
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0 || items.length === 0) {
    throw new Error(`${flag} takes a comma-separated list of ${allowed.join(", ")}; got "${text}"`);
  }
  return items as T[];
}

function commit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: REPO, encoding: "utf8" }).trim() !== "";
    return dirty ? `${head}-dirty` : head;
  } catch {
    return "unknown";
  }
}

function machine(): Report["machine"] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    kernel: release(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

function describeMachine(report: Report): string {
  const m = report.machine;
  const load = `load average ${report.loadAverage.start.toFixed(2)} → ${report.loadAverage.end.toFixed(2)}`;
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Linux ${m.kernel}, Node ${m.node}, commit ${report.commit}, ${load}`;
}

countProcessWarnings();
// Children die with us, on success, failure or Ctrl-C alike.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAllChildren().finally(() => process.exit(130));
  });
}
let code = 1;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
} finally {
  await stopAllChildren();
}
process.exit(code);
