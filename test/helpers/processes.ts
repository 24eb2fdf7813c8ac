import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

/** A child process with its output kept, stopped by stop() (SIGTERM, then SIGKILL). */
export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<Running>();

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const handle: Running = {
    child,
    pid: child.pid!,
    stderr: () => err,
    stdout: () => out,
    async stop(signal = "SIGTERM") {
      running.delete(handle);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 8000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
  running.add(handle);
  return handle;
}

/** Stops everything the tests started and did not stop (called from after() hooks). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop("SIGKILL")));
}
