/**
 * Runs the official MCP conformance suite's SERVER scenarios against mcpo-ts's MCP endpoint: the built proxy
 * (`dist/cli/main.js`) fronts the fixture test/fixtures/conformance-server/ (over Streamable HTTP: see
 * startProxyTarget), and the suite's CLI judges
 * `http://127.0.0.1:<port>/mcp`. Used by test/e2e/conformance-server.test.ts; run directly for a table:
 *   node --import tsx test/conformance/server-run.ts [--direct] [scenario...]
 * (`--direct`: against the fixture's own Streamable HTTP endpoint, no proxy; after `npm run build` otherwise).
 *
 * Each run (a suite version, at a spec version where the suite takes one) is one CLI invocation with
 * `--suite all` (drafts and pending scenarios included), which is far cheaper than a Node 22 process per
 * scenario; its per-scenario checks.json files are read back one by one. Extension scenarios (sep-2640 skills,
 * tasks-*) are not run: `list --server --spec-version` leaves them out, and the fixture implements neither
 * extension.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { serveConformanceHttp } from "../fixtures/conformance-server/http.js";
import { createLimiter, missingInstall } from "./run.js";
import { cliOf, HERE, listScenarios, problemsOf, ROOT, runSuiteCli, type Check, type Suite } from "./suite-cli.js";

const FIXTURE = join(ROOT, "test", "fixtures", "conformance-server", "main.ts");
const EXPECTED_FILE = join(HERE, "server-expected-failures.yaml");

/** Past this a run's CLI is killed (a whole suite run takes about 10 s on an idle core). */
const RUN_TIMEOUT_MS = 180_000;
/** Per scenario, passed to the CLIs that take --timeout (0.2.0 and later). */
const SCENARIO_TIMEOUT_MS = 30_000;

/** A run of the server scenarios: a suite version, at a spec version where it takes one. */
export type ServerRun = Suite;

export const SERVER_RUNS: readonly ServerRun[] = [
  { version: "0.1.16", folder: "@modelcontextprotocol/conformance" },
  { version: "0.2.0-alpha.12", folder: "conformance-next", specVersion: "2025-11-25" },
  { version: "0.2.0-alpha.12", folder: "conformance-next", specVersion: "2026-07-28" },
];

export function runLabel(run: ServerRun): string {
  return run.specVersion ? `${run.version} ${run.specVersion}` : run.version;
}

export interface ServerScenarioResult {
  run: ServerRun;
  scenario: string;
  passed: boolean;
  /** The failed and warning checks ("STATUS name: message"), or why none were written. */
  problems: string[];
}

export interface ServerRunResult {
  run: ServerRun;
  results: ServerScenarioResult[];
  /** Everything the CLI printed, colours removed. */
  output: string;
  durationMs: number;
}

/** Why the suite cannot run (with the command that fixes it), or undefined when it can. */
export { missingInstall };

/** The run's server scenarios (`conformance list --server`), extensions left out. */
export function listServerScenarios(run: ServerRun): string[] {
  return listScenarios(run, "server");
}

/** Scenarios expected to fail through the proxy, with why, per run label (server-expected-failures.yaml). */
export function expectedFailures(): Record<string, Record<string, string>> {
  // Two levels only ("run": then "  scenario: reason"), so a few lines read it without a YAML dependency.
  const runs: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const line of readFileSync(EXPECTED_FILE, "utf8").split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    const top = /^"([^"]+)":\s*(\{\})?\s*$/.exec(line);
    const entry = /^\s+([\w./-]+):\s*(.+)$/.exec(line);
    if (top) runs[top[1]!] = current = {};
    else if (entry && current) current[entry[1]!] = entry[2]!.replace(/^"(.*)"$/, "$1");
    else throw new Error(`${EXPECTED_FILE}: cannot read the line ${JSON.stringify(line)}`);
  }
  return runs;
}

/** Runs every listed scenario of one run against `url` in one CLI invocation; never rejects. */
export async function runServerSuite(
  run: ServerRun,
  url: string,
  scenarios = listServerScenarios(run),
): Promise<ServerRunResult> {
  const started = Date.now();
  const outDir = mkdtempSync(join(tmpdir(), "mcpo-conformance-server-"));
  try {
    const args = [cliOf(run), "server", "--url", url, "--suite", "all", "-o", outDir];
    if (run.specVersion) args.push("--spec-version", run.specVersion, "--timeout", String(SCENARIO_TIMEOUT_MS));
    if (scenarios.length === 1) args.push("--scenario", scenarios[0]!);
    const output = stripVTControlCharacters((await runSuiteCli(args, RUN_TIMEOUT_MS)).output);
    const checks = readChecks(outDir);
    const results = scenarios.map((scenario) => {
      const found = checks.get(scenario);
      const problems = found
        ? problemsOf(found)
        : ["the scenario wrote no checks.json (it did not run, or the CLI was killed)"];
      // The suite's own verdict: a FAILURE fails the scenario, a WARNING (a SHOULD) is reported but does not.
      const passed = found !== undefined && !found.some((check) => check.status === "FAILURE");
      return { run, scenario, passed, problems };
    });
    return { run, results, output, durationMs: Date.now() - started };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** checks.json per scenario: the CLI writes each under `server-<scenario>-<timestamp>/`. */
function readChecks(outDir: string): Map<string, Check[]> {
  const found = new Map<string, Check[]>();
  for (const folder of readdirSync(outDir)) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(folder)?.[1];
    const file = join(outDir, folder, "checks.json");
    if (scenario && existsSync(file)) found.set(scenario, JSON.parse(readFileSync(file, "utf8")) as Check[]);
  }
  return found;
}

export interface Target {
  /** The MCP endpoint the suite judges. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The built proxy fronting the fixture over Streamable HTTP (single-server mode: its MCP endpoint is /mcp). Over
 * Streamable HTTP, because there a server's log message about a call comes on that call's own response stream, so
 * the proxy can pass it to the caller (tools-call-with-logging); over stdio nothing on the wire says which call a log
 * message is about, and the proxy passes none on rather than risk giving one caller another's (README: Known gaps).
 * Every other scenario passes with the fixture over stdio too (`--stdio`).
 */
export async function startProxyTarget(upstream: "http" | "stdio" = "http"): Promise<Target & { proxy: Proxy }> {
  if (upstream === "stdio") {
    const proxy = await startProxy([], [process.execPath, "--import", "tsx", FIXTURE]);
    return { proxy, url: `${proxy.url}/mcp`, stop: async () => void (await proxy.stop()) };
  }
  const fixture = await serveConformanceHttp(0);
  const proxy = await startProxy(["--server-type", "streamable-http"], [fixture.url]);
  return {
    proxy,
    url: `${proxy.url}/mcp`,
    stop: async () => {
      await proxy.stop();
      await fixture.close();
    },
  };
}

/** The fixture's own Streamable HTTP endpoint, in this process (to prove the fixture alone). */
export async function startDirectTarget(): Promise<Target> {
  const http = await serveConformanceHttp(0);
  return { url: http.url, stop: () => http.close() };
}

/** Runs at once: each is one suite CLI making sequential requests; two keep a 2-core machine busy enough. */
export const PARALLEL_RUNS = 2;

async function main(argv: string[]): Promise<void> {
  const problem = missingInstall();
  if (problem) throw new Error(problem);
  const direct = argv.includes("--direct");
  const only = argv.filter((arg) => !arg.startsWith("--"));
  const started = Date.now();
  const target = direct
    ? await startDirectTarget()
    : await startProxyTarget(argv.includes("--stdio") ? "stdio" : "http");
  const expected = expectedFailures();
  const limited = createLimiter(PARALLEL_RUNS);
  try {
    const runs = await Promise.all(
      SERVER_RUNS.map((run) =>
        limited(async () => {
          const scenarios = listServerScenarios(run).filter((name) => only.length === 0 || only.includes(name));
          return scenarios.length === 0 ? undefined : runServerSuite(run, target.url, scenarios);
        }),
      ),
    );
    let failed = 0;
    let total = 0;
    for (const result of runs) {
      if (!result) continue;
      process.stdout.write(`--- conformance ${runLabel(result.run)} (${result.durationMs} ms)\n`);
      for (const one of result.results) {
        total++;
        const why = direct ? undefined : expected[runLabel(one.run)]?.[one.scenario];
        const verdict = one.passed
          ? why
            ? "PASS (listed as expected to fail)"
            : "PASS"
          : why
            ? `XFAIL (${why})`
            : "FAIL";
        if (!one.passed && !why) failed++;
        process.stdout.write(`${verdict} ${one.scenario}\n`);
        for (const line of one.problems) process.stdout.write(`     ${line}\n`);
      }
    }
    process.stdout.write(
      `${total - failed}/${total} passed ${direct ? "directly" : "through the proxy"} in ${Date.now() - started} ms\n`,
    );
    process.exitCode = failed === 0 ? 0 : 1;
  } finally {
    await target.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
