/**
 * npm run bench [-- --quick] [-- --out file.json] [-- --duration s --warmup s] [-- --overhead-only]
 *
 * Measures, in one run on loopback, what mcpo-ts adds to a tool call next to
 * the floor (SDK client, no HTTP) and a thin node:http proxy, then the growth
 * figures (payload size, tool and server counts, idle memory). Prints the
 * tables and writes them as JSON (bench/results/latest.json by default).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { growthFailed, growthTables, runGrowth, type GrowthResult } from "./growth.js";
import { stopAllChildren } from "./lib/children.js";
import { countProcessWarnings } from "./lib/warnings.js";
import { overheadTable, runOverhead, type OverheadPlan, type OverheadRow } from "./overhead.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));

const FULL: OverheadPlan = {
  transports: ["stdio", "streamable-http"],
  concurrencies: [1, 16, 64],
  warmupMs: 1000,
  durationMs: 5000,
};
// A smoke test of the harness, not a measurement: stdio only, one concurrency, half a second each,
// kept short because it runs inside npm test next to timing-sensitive e2e tests.
const QUICK: OverheadPlan = { transports: ["stdio"], concurrencies: [16], warmupMs: 200, durationMs: 500 };

interface Report {
  mode: "full" | "quick";
  date: string;
  commit: string;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string; memoryGb: number };
  /** 1-minute load average at start and end: anything else running skews every figure. */
  loadAverage: { start: number; end: number };
  plan: OverheadPlan;
  overhead: OverheadRow[];
  growth?: GrowthResult;
  durationS: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
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
  };
  const out = resolve(values.out ?? `${REPO}bench/results/${quick ? "quick" : "latest"}.json`);
  const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);

  process.stderr.write(`overhead: ${plan.transports.join(", ")} at concurrency ${plan.concurrencies.join(", ")}\n`);
  const overhead = await runOverhead(plan, progress);
  process.stdout.write(`\n${overheadTable(overhead)}\n`);

  let growth: GrowthResult | undefined;
  if (!quick && !values["overhead-only"]) {
    process.stderr.write("\ngrowth\n");
    growth = await runGrowth(progress);
    process.stdout.write(`\n${growthTables(growth)}\n`);
  }

  const report: Report = {
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    commit: commit(),
    machine: machine(),
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
    plan,
    overhead,
    ...(growth ? { growth } : {}),
    durationS: (performance.now() - startedAt) / 1000,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${describeMachine(report)}; ${report.durationS.toFixed(1)} s; wrote ${out}\n`);

  const failed = overhead.filter((row) => row.failed).length + (growth ? growthFailed(growth) : 0);
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
