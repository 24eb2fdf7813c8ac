import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConnectionSettings } from "../../../src/config/schema.js";
import { silentLogger } from "../../../src/log/logger.js";
import { connectWithRetry, type RetryLoopOptions } from "../../../src/upstream/retry-loop.js";

const settings = (retryAttempts: number) =>
  resolveConnectionSettings({
    retry_attempts: retryAttempts,
    retry_delay: 0.01,
    max_retry_delay: 0.04,
    backoff_factor: 2,
  });

interface Recorded {
  failures: { reason: string; waitMs: number }[];
  downs: number[];
  attempts: number;
}

/** An attempt that fails `failures` times (with numbered errors) then returns "connected". */
function loop(
  retryAttempts: number,
  failures: number,
  overrides: Partial<RetryLoopOptions<string>> = {},
): { promise: Promise<string>; recorded: Recorded } {
  const recorded: Recorded = { failures: [], downs: [], attempts: 0 };
  const promise = connectWithRetry<string>({
    settings: settings(retryAttempts),
    label: "test upstream",
    log: silentLogger(),
    signal: new AbortController().signal,
    attempt: async () => {
      recorded.attempts++;
      if (recorded.attempts <= failures) throw new Error(`refused #${recorded.attempts}`);
      return "connected";
    },
    onFailure: (reason, nextAttemptAt) => {
      recorded.failures.push({ reason, waitMs: nextAttemptAt - Date.now() });
    },
    onDown: () => recorded.downs.push(recorded.attempts),
    describe: (error) => `described: ${(error as Error).message}`,
    ...overrides,
  });
  return { promise, recorded };
}

describe("connectWithRetry", () => {
  it("resolves with the attempt's value once it succeeds, reporting every failure by `describe`", async () => {
    const { promise, recorded } = loop(2, 3);
    assert.equal(await promise, "connected");
    assert.equal(recorded.attempts, 4);
    assert.deepEqual(
      recorded.failures.map((failure) => failure.reason),
      ["described: refused #1", "described: refused #2", "described: refused #3"],
    );
  });

  it("announces waits that grow by backoff_factor, then cap at max_retry_delay", async () => {
    const { promise, recorded } = loop(2, 5);
    await promise;
    // nextAttemptAt is Date.now() + wait, read back a moment later: allow a few ms of slack below.
    const waits = recorded.failures.map((failure) => failure.waitMs);
    const expected = [10, 20, 40, 40, 40];
    assert.equal(waits.length, expected.length);
    waits.forEach((wait, index) => {
      assert.ok(
        wait <= expected[index]! && wait >= expected[index]! - 5,
        `wait ${index}: ${wait} ≈ ${expected[index]}`,
      );
    });
  });

  it("calls onDown exactly once, after retry_attempts failures, and keeps trying", async () => {
    const { promise, recorded } = loop(2, 5);
    assert.equal(await promise, "connected");
    assert.deepEqual(recorded.downs, [2]);
  });

  it("does not call onDown before retry_attempts failures", async () => {
    const { promise, recorded } = loop(3, 2);
    await promise;
    assert.deepEqual(recorded.downs, []);
  });

  it("never calls onDown with retry_attempts -1", async () => {
    const { promise, recorded } = loop(-1, 6);
    assert.equal(await promise, "connected");
    assert.equal(recorded.failures.length, 6);
    assert.deepEqual(recorded.downs, []);
  });

  it("ends (rejects) when the signal aborts", async () => {
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
    await assert.rejects(promise, { message: "shutting down" });
    const seen = attempts;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(attempts, seen, "no attempt after the abort");
  });
});
