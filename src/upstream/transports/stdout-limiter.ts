import type { Logger } from "../../log/logger.js";

/** Notifications passed on from one stdio server per second; the rest are dropped and counted. */
export const NOTIFICATIONS_PER_SECOND = 1000;

/**
 * Keeps one stdio server's stdout from costing the proxy more than it should: past NOTIFICATIONS_PER_SECOND in a
 * second, notifications are dropped (each call in flight still gets one progress notification a second, which is
 * all its timeout needs), and lines that are not JSON-RPC are counted, not reported one by one. What was dropped
 * or skipped is logged once a second at warn. Messages with an id (answers, requests) are never dropped.
 */
export class StdoutLimiter {
  #windowStart = 0;
  #passed = 0;
  /** Progress tokens passed this second once over the budget. */
  #progressTokens = new Set<unknown>();
  #dropped = 0;
  #noise = 0;
  #sample = "";
  #report: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger | undefined,
    private readonly perSecond: number = NOTIFICATIONS_PER_SECOND,
  ) {}

  /**
   * Over this second's budget: a line that names neither an id nor progress can only be a notification (or
   * noise), and is dropped without being parsed.
   */
  skipsUnparsed(line: string): boolean {
    if (this.#passed < this.perSecond || Date.now() - this.#windowStart >= 1000) return false;
    if (line.includes('"id"') || line.includes("notifications/progress")) return false;
    this.#count("dropped");
    return true;
  }

  /** Whether to pass on a notification. */
  admit(method: string, params: unknown): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#passed = 0;
      this.#progressTokens.clear();
    }
    if (this.#passed < this.perSecond) {
      this.#passed++;
      return true;
    }
    if (method === "notifications/progress") {
      const token = (params as { progressToken?: unknown } | undefined)?.progressToken;
      if (!this.#progressTokens.has(token)) {
        this.#progressTokens.add(token);
        return true;
      }
    }
    this.#count("dropped");
    return false;
  }

  /** A line that is not JSON-RPC: counted, the first of each second kept as a sample. */
  noise(line: string): void {
    if (this.#noise === 0) this.#sample = line.slice(0, 200);
    this.#count("noise");
  }

  #count(kind: "dropped" | "noise"): void {
    if (kind === "dropped") this.#dropped++;
    else this.#noise++;
    if (this.#report) return;
    this.#report = setTimeout(() => this.#flush(), 1000);
    this.#report.unref();
  }

  #flush(): void {
    this.#report = undefined;
    if (this.#noise > 0) {
      this.log?.warn(
        { stream: "stdout", lines: this.#noise, first: this.#sample },
        "lines on stdout that are not JSON-RPC were skipped",
      );
    }
    if (this.#dropped > 0) {
      this.log?.warn(
        { stream: "stdout", dropped: this.#dropped, limit_per_second: this.perSecond },
        "notification flood: notifications dropped",
      );
    }
    this.#noise = this.#dropped = 0;
    this.#sample = "";
  }

  /** Reports what is still counted (the server is gone). */
  close(): void {
    clearTimeout(this.#report);
    this.#flush();
  }
}
