import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { descendants, startTime } from "./proc.js";
import { StderrWarnings, type WarningTally } from "./warnings.js";

/** A process the bench started; stop() ends it and everything it started. */
export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  /** What it wrote so far (the last 256 KiB of each stream), for readiness checks and error messages. */
  stdout(): string;
  stderr(): string;
  /** Node warnings it printed on stderr, over its whole life. */
  warnings(): WarningTally;
  /**
   * Sends `signal` now (a failover test's SIGKILL or SIGTERM), noting first what runs below the process, so that
   * stop() can still end the orphans a SIGKILL leaves.
   */
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** "ignore" for servers that log every request (server-everything over HTTP): nobody reads it. */
  stdout?: "pipe" | "ignore";
}

const KEEP_BYTES = 256 * 1024;
const STOP_GRACE_MS = 5000;
const live = new Set<Child>();

export function startChild(command: string, args: readonly string[], options: StartOptions = {}): Child {
  const child = spawn(command, [...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", options.stdout ?? "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const out = { stdout: "", stderr: "" };
  const keep = (key: "stdout" | "stderr") => (chunk: string) => {
    out[key] = (out[key] + chunk).slice(-KEEP_BYTES);
  };
  child.stdout?.setEncoding("utf8").on("data", keep("stdout"));
  const warnings = new StderrWarnings();
  child.stderr?.setEncoding("utf8").on("data", keep("stderr"));
  child.stderr?.on("data", (chunk: string) => warnings.push(chunk));
  const exited = once(child, "exit").then(() => undefined);
  const pid = child.pid;
  const snapshot = (): { pid: number; started: string | undefined }[] =>
    safeDescendants(pid).map((below) => ({ pid: below, started: startTime(below) }));
  let signalled: { pid: number; started: string | undefined }[] = [];
  const handle: Child = {
    pid,
    process: child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    warnings: () => ({ ...warnings.tally }),
    kill(signal) {
      signalled = snapshot();
      child.kill(signal);
    },
    async stop() {
      live.delete(handle);
      // Listed before the signal: a stdio upstream in its own process group is not ours to find afterwards.
      const below = [...signalled, ...snapshot()];
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      // A graceful exit ends the children; whatever is left (a SIGKILLed parent's orphans) is killed here.
      for (const orphan of below) {
        // pid_max is 32768 here: a pid freed by a graceful exit may already name someone else's process.
        if (orphan.started === undefined || startTime(orphan.pid) !== orphan.started) continue;
        try {
          process.kill(orphan.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
  live.add(handle);
  return handle;
}

function safeDescendants(pid: number): number[] {
  try {
    return descendants(pid);
  } catch {
    return [];
  }
}

/** Stops every child still running (the finally of a run, and the SIGINT handler). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop()));
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof ExitedError) throw error; // no point waiting for a process that is gone
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Throws with the child's stderr when it has exited (inside a waitFor check). */
export function assertRunning(child: Child, name: string): void {
  if (child.process.exitCode !== null || child.process.signalCode !== null) {
    const code = child.process.exitCode ?? child.process.signalCode;
    throw new ExitedError(`${name} exited (${String(code)}): ${child.stderr().trim().slice(-2000)}`, code);
  }
}

export class ExitedError extends Error {
  constructor(
    message: string,
    readonly code: number | string | null,
  ) {
    super(message);
    this.name = "ExitedError";
  }
}
