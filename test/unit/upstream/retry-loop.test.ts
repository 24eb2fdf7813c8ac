import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { resolveConnectionSettings } from "../../../src/config/schema.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MIN_RETRY_DELAY_MS, connectWithRetry, type RetryLoopOptions } from "../../../src/upstream/retry-loop.js";

const settings = (retryAttempts: number, retryDelay = 0.1, maxRetryDelay = 0.4) =>
  resolveConnectionSettings({
    retry_attempts: retryAttempts,
    retry_delay: retryDelay,
    max_retry_delay: maxRetryDelay,
    backoff_factor: 2,
  });

interface Recorded {
  failures: { reason: string; waitMs: number }[];
  downs: number[];
  attempts: number;
}

/** An attempt that throws `failure(n)` for its first `failures` attempts, then returns "connected". */
function loop(
  retryAttempts: number,
  failures: number,
  overrides: Partial<RetryLoopOptions<string>> & { failure?: (attempt: number) => unknown; retryDelay?: number } = {},
): { promise: Promise<string>; recorded: Recorded } {
  const recorded: Recorded = { failures: [], downs: [], attempts: 0 };
  const { failure = (n: number) => new Error(`refused #${n}`), retryDelay, ...rest } = overrides;
  const promise = connectWithRetry<string>({
    settings: settings(retryAttempts, retryDelay),
    label: "test upstream",
    log: silentLogger(),
    signal: new AbortController().signal,
    attempt: async () => {
      recorded.attempts++;
      if (recorded.attempts <= failures) throw failure(recorded.attempts);
      return "connected";
    },
    onFailure: (reason, nextAttemptAt) => {
      recorded.failures.push({ reason, waitMs: nextAttemptAt - Date.now() });
    },
    onDown: () => recorded.downs.push(recorded.attempts),
    describe: (error) => `described: ${error instanceof Error ? error.message : String(error)}`,
    ...rest,
  });
  return { promise, recorded };
}

/** Lets promise callbacks run (setImmediate is not mocked). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances the mocked clock in small steps until `promise` settles. */
async function run<T>(promise: Promise<T>, stepMs = 10, maxSteps = 10_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  watched.catch(() => undefined);
  for (let step = 0; !done && step < maxSteps; step++) {
    await settle();
    mock.timers.tick(stepMs);
  }
  return watched;
}

describe("connectWithRetry", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"] }));
  afterEach(() => mock.timers.reset());

  it("resolves with the attempt's value once it succeeds, reporting every failure by `describe`", async () => {
    const { promise, recorded } = loop(2, 3);
    assert.equal(await run(promise), "connected");
    assert.equal(recorded.attempts, 4);
    assert.deepEqual(
      recorded.failures.map((failure) => failure.reason),
      ["described: refused #1", "described: refused #2", "described: refused #3"],
    );
  });

  it("announces waits that grow by backoff_factor, then cap at max_retry_delay", async () => {
    const { promise, recorded } = loop(2, 5);
    await run(promise);
    assert.deepEqual(
      recorded.failures.map((failure) => failure.waitMs),
      [100, 200, 400, 400, 400],
    );
  });

  it("waits what it announces: no attempt before the wait is over", async () => {
    const { promise, recorded } = loop(-1, 2);
    await settle();
    assert.equal(recorded.attempts, 1);
    mock.timers.tick(99);
    await settle();
    assert.equal(recorded.attempts, 1, "not before 100 ms");
    mock.timers.tick(1);
    await settle();
    assert.equal(recorded.attempts, 2);
    await run(promise);
  });

  it("calls onDown exactly once, after retry_attempts failures, and keeps trying", async () => {
    const { promise, recorded } = loop(2, 5);
    assert.equal(await run(promise), "connected");
    assert.deepEqual(recorded.downs, [2]);
  });

  it("does not call onDown before retry_attempts failures", async () => {
    const { promise, recorded } = loop(3, 2);
    await run(promise);
    assert.deepEqual(recorded.downs, []);
  });

  it("never calls onDown with retry_attempts -1", async () => {
    const { promise, recorded } = loop(-1, 6);
    assert.equal(await run(promise), "connected");
    assert.equal(recorded.failures.length, 6);
    assert.deepEqual(recorded.downs, []);
  });

  it("keeps going whatever an attempt throws: TypeErrors (an invalid URL), non-errors", async () => {
    const thrown = [
      () => new URL("http://[not a url"),
      () => new TypeError("Invalid header value"),
      () => "a string, not an Error",
    ];
    const { promise, recorded } = loop(-1, 3, {
      failure: (n) => {
        try {
          const value = thrown[n - 1]!();
          return value;
        } catch (error) {
          return error;
        }
      },
    });
    assert.equal(await run(promise), "connected");
    assert.equal(recorded.attempts, 4);
    assert.match(recorded.failures[0]!.reason, /Invalid URL/);
    assert.match(recorded.failures[1]!.reason, /Invalid header value/);
    assert.match(recorded.failures[2]!.reason, /a string, not an Error/);
  });

  it(`with retry_delay 0 still waits ${MIN_RETRY_DELAY_MS} ms between attempts, on a timer`, async () => {
    const { promise, recorded } = loop(-1, 3, { retryDelay: 0 });
    for (let i = 0; i < 20; i++) await settle();
    assert.equal(recorded.attempts, 1, "no attempt without the clock moving: the event loop turns in between");
    assert.equal(recorded.failures[0]!.waitMs, MIN_RETRY_DELAY_MS);
    assert.equal(await run(promise), "connected");
    assert.equal(recorded.attempts, 4);
  });

  it("ends (rejects) when the signal aborts, and attempts no more", async () => {
    const controller = new AbortController();
    let attempts = 0;
    const promise = connectWithRetry<string>({
      settings: settings(-1),
      label: "test upstream",
      log: silentLogger(),
      signal: controller.signal,
      attempt: async () => {
        attempts++;
        throw new Error("refused");
      },
      onFailure: () => {
        if (attempts === 2) controller.abort(new Error("shutting down"));
      },
      onDown: () => assert.fail("onDown with retry_attempts -1"),
      describe: String,
    });
    await assert.rejects(run(promise), { message: "shutting down" });
    const seen = attempts;
    mock.timers.tick(10_000);
    await settle();
    assert.equal(attempts, seen, "no attempt after the abort");
  });
});
