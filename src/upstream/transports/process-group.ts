import type { Writable } from "node:stream";

/**
 * Process groups still running. Our children are detached (their own groups),
 * so if this process dies without close() (an uncaught exception, process.exit)
 * they would outlive it: the exit hook ends them synchronously.
 */
export const liveGroups = new Set<number>();
process.once("exit", () => {
  for (const group of liveGroups) signalGroup(group, "SIGKILL");
});

export interface StopTimes {
  /** How long the server may take to exit once its stdin is closed. */
  stdinGraceMs: number;
  /** How long the group may take to exit after SIGTERM, before SIGKILL. */
  killGraceMs: number;
}

const stopping = new Map<number, Promise<void>>();

/**
 * Ends a server's whole process group in the order the MCP specification recommends for stdio: close its stdin
 * and wait for it to exit, then SIGTERM, wait, then SIGKILL. Each wait is bounded. One stop per group at a time.
 */
export function endGroup(group: number, stdin: Writable | undefined, times: StopTimes): Promise<void> {
  let stop = stopping.get(group);
  if (!stop) {
    stop = (async () => {
      stdin?.end();
      if (!(await goneWithin(group, times.stdinGraceMs))) {
        signalGroup(group, "SIGTERM");
        if (!(await goneWithin(group, times.killGraceMs))) signalGroup(group, "SIGKILL");
      }
      liveGroups.delete(group);
    })().finally(() => stopping.delete(group));
    stopping.set(group, stop);
  }
  return stop;
}

async function goneWithin(group: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; groupAlive(group);) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

export function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function groupAlive(group: number): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}
