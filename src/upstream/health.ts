/** Connection states, as reported by `/health`. */
export type ConnectionState = "connecting" | "ready" | "reconnecting" | "down" | "closed";

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
}

/**
 * Passive health of one upstream: nothing polls; real calls and on-demand
 * checks report here. A failure counts, a success resets the count.
 */
export class HealthTracker {
  state: ConnectionState = "connecting";
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
    };
  }
}

function unixSeconds(): number {
  return Date.now() / 1000;
}
