/** Thrown when every slot is taken and the queue is full. */
export class LimiterFullError extends Error {
  override readonly name = "LimiterFullError";
}

/** Thrown when a waiter's time ran out before a slot came free; it left the queue. */
export class LimiterTimeoutError extends Error {
  override readonly name = "LimiterTimeoutError";
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: unknown) => void;
}

/**
 * At most `max` calls at once; up to `maxQueue` more wait their turn, first
 * come first served; past that, acquire() refuses at once. A waiter whose
 * caller goes away (signal) or whose time runs out leaves the queue.
 */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** A release function when a slot is free now (the common case, no promise), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.#active >= this.max) return undefined;
    this.#active++;
    return this.#releaser();
  }

  /**
   * Resolves with a release function, to be called exactly once when the call ends. Rejects with the signal's
   * reason when it aborts, or with LimiterTimeoutError after `timeoutMs` (when given) in the queue.
   */
  acquire(signal?: AbortSignal, timeoutMs?: number): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(new LimiterFullError(`${this.#active} calls running and ${this.#queue.length} waiting`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      return Promise.reject(new LimiterTimeoutError("no time left to wait for a slot"));
    }
    return new Promise((resolve, reject) => {
      const leave = (error: unknown): void => {
        const index = this.#queue.indexOf(waiter);
        if (index === -1) return;
        this.#queue.splice(index, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      };
      const onAbort = (): void => leave(signal!.reason);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => leave(new LimiterTimeoutError(`no slot came free within ${timeoutMs} ms`)), timeoutMs);
      const waiter: Waiter = {
        resolve: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        reject,
      };
      this.#queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next.resolve(this.#releaser());
      else this.#active--;
    };
  }
}
