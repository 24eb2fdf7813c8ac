import type { Era } from "./era.js";
import type { SkippedTool } from "./list-tools.js";

/**
 * Connection states, as reported by `/health`. `incompatible`: the upstream answers but speaks no MCP revision
 * we offered; it is retried only at the slow pace (max_retry_delay). `unauthorized`: an OAuth upstream has no
 * usable token (or wants a step-up only a human can grant); it is tried again as soon as the token store changes
 * (`mcpo auth` wrote it), else at the slow pace.
 */
export const CONNECTION_STATES = [
  "connecting",
  "ready",
  "reconnecting",
  "down",
  "incompatible",
  "unauthorized",
  "closed",
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** Both sides' revisions, when they share none. */
export interface VersionMismatch {
  /** What we offered (the `protocol` setting decides). */
  ours: readonly string[];
  /** What the upstream said it speaks, when it said. */
  upstream: readonly string[] | null;
}

export interface HealthSnapshot {
  state: ConnectionState;
  error_count: number;
  last_error: string | null;
  /** Unix time in seconds (as Python's time.time()), or null when never. */
  last_check: number | null;
  last_success: number | null;
  /** Seconds since the last success, or null when never. */
  seconds_since_success: number | null;
  reconnect_count: number;
  /** The revision spoken on the current (or last) connection, e.g. "2026-07-28"; null before the first. */
  protocol_version: string | null;
  /** `modern` (2026-07-28 on, no initialize) or `legacy` (the 2025 revisions); null before the first connection. */
  era: Era | null;
  /** Only in state `incompatible`. */
  versions?: VersionMismatch;
  /** Tools of the last tool list that are not served, and why; only when there are some. */
  skipped_tools?: readonly SkippedTool[];
}

/**
 * Passive health of one upstream: nothing polls; real calls and on-demand
 * checks report here. A failure counts, a success resets the count.
 */
export class HealthTracker {
  state: ConnectionState = "connecting";
  protocolVersion: string | null = null;
  era: Era | null = null;
  mismatch: VersionMismatch | undefined;
  skippedTools: readonly SkippedTool[] = [];
  #errorCount = 0;
  #lastError: string | null = null;
  #lastCheck: number | null = null;
  #lastSuccess: number | null = null;
  #reconnects = 0;

  recordSuccess(): void {
    const now = unixSeconds();
    this.#errorCount = 0;
    this.#lastCheck = now;
    this.#lastSuccess = now;
  }

  recordFailure(message: string): void {
    this.#errorCount += 1;
    this.#lastError = message;
    this.#lastCheck = unixSeconds();
  }

  recordReconnect(): void {
    this.#reconnects += 1;
  }

  snapshot(): HealthSnapshot {
    return {
      state: this.state,
      error_count: this.#errorCount,
      last_error: this.#lastError,
      last_check: this.#lastCheck,
      last_success: this.#lastSuccess,
      seconds_since_success:
        this.#lastSuccess === null ? null : Math.round((unixSeconds() - this.#lastSuccess) * 1000) / 1000,
      reconnect_count: this.#reconnects,
      protocol_version: this.protocolVersion,
      era: this.era,
      ...(this.state === "incompatible" && this.mismatch ? { versions: this.mismatch } : {}),
      ...(this.skippedTools.length > 0 ? { skipped_tools: this.skippedTools } : {}),
    };
  }
}

function unixSeconds(): number {
  return Date.now() / 1000;
}
