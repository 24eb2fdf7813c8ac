import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SilenceWatch } from "../../../src/upstream/silence-watch.js";

const TIMEOUT_MS = 40;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds, failing after `timeoutMs`. */
async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe("SilenceWatch", () => {
  it("calls onSilent when a call is pending and nothing is heard", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const started = Date.now();
    const end = watch.begin();
    try {
      await until("onSilent", () => calls > 0);
      assert.ok(Date.now() - started >= TIMEOUT_MS, "not before the timeout has passed");
    } finally {
      end();
    }
  });

  it("stays quiet while heard() keeps being called", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    try {
      const stopAt = Date.now() + TIMEOUT_MS * 5;
      while (Date.now() < stopAt) {
        watch.heard();
        await sleep(5);
      }
      assert.equal(calls, 0);
    } finally {
      end();
    }
  });

  it("never suspects an idle connection (no call pending)", async () => {
    let calls = 0;
    new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    await sleep(TIMEOUT_MS * 4);
    assert.equal(calls, 0);
  });

  it("runs one check at a time, and once per silent period", async () => {
    let calls = 0;
    let running = 0;
    let maxRunning = 0;
    let finishCheck: (() => void) | undefined;
    const watch = new SilenceWatch(TIMEOUT_MS, () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<void>((resolve) => {
        finishCheck = () => {
          running--;
          resolve();
        };
      });
    });
    const end = watch.begin();
    try {
      await until("the first check", () => calls === 1);
      // The check hangs for several timeouts: no second check may start meanwhile.
      await sleep(TIMEOUT_MS * 4);
      assert.equal(calls, 1);
      finishCheck?.();
      // A finished check counts as hearing something: the next one waits for a new silent period.
      const finishedAt = Date.now();
      await until("the second check", () => calls === 2);
      assert.ok(Date.now() - finishedAt >= TIMEOUT_MS - 5, "a new silent period passed first");
      finishCheck?.();
      assert.equal(maxRunning, 1);
    } finally {
      end();
    }
  });

  it("stops the timer when the last pending call ends", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const endFirst = watch.begin();
    const endSecond = watch.begin();
    endFirst();
    endFirst(); // idempotent: must not count as the second call ending
    await until("onSilent with one call still pending", () => calls > 0);
    endSecond();
    const seen = calls;
    await sleep(TIMEOUT_MS * 4);
    assert.equal(calls, seen);
  });

  it("stops the timer on stop()", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    watch.stop();
    await sleep(TIMEOUT_MS * 4);
    assert.equal(calls, 0);
    end();
  });
});
