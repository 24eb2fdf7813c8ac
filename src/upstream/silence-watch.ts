/**
 * Notices an upstream that has gone silent while calls are waiting on it:
 * when nothing at all has arrived for `timeoutMs` and at least one call is
 * pending, `onSilent` runs (once per silent period) to check whether the
 * upstream is still there. An idle connection is never suspected.
 */
export class SilenceWatch {
  #lastHeard = Date.now();
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly onSilent: () => Promise<void>,
  ) {}

  /** Something arrived from the upstream. */
  heard(): void {
    this.#lastHeard = Date.now();
  }

  /** A call started; returns the function that marks its end. */
  begin(): () => void {
    if (this.#pending++ === 0) {
      this.#lastHeard = Date.now();
      this.#timer = setInterval(() => this.#check(), Math.max(10, Math.floor(this.timeoutMs / 4)));
      this.#timer.unref();
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#pending === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#checking || Date.now() - this.#lastHeard < this.timeoutMs) return;
    this.#checking = true;
    void this.onSilent().finally(() => {
      this.#checking = false;
      this.#lastHeard = Date.now();
    });
  }
}
