import type { ConnectionState } from "./health.js";

/** What waitForReady needs of an emitter of state changes. */
export interface StateSource {
  on(event: "state", listener: (state: ConnectionState) => void): unknown;
  off(event: "state", listener: (state: ConnectionState) => void): unknown;
}

/**
 * Resolves when `emitter` reports `state` "ready"; rejects with `fail()` when
 * it is closed for good or needs a login (`unauthorized`), after `timeoutMs`, or with `gone()` when the caller's
 * signal aborts.
 */
export function waitForReady(
  emitter: StateSource,
  timeoutMs: number,
  fail: () => Error,
  gone: () => Error,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(gone());
  return new Promise((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      emitter.off("state", onState);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onState = (state: ConnectionState): void => {
      if (state === "ready") finish();
      // Closed for good, or waiting for a human to log in: no point in waiting longer.
      else if (state === "closed" || state === "unauthorized") finish(fail());
    };
    const onAbort = (): void => finish(gone());
    const timer = setTimeout(() => finish(fail()), timeoutMs);
    emitter.on("state", onState);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
