import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { SilenceWatch } from "../../../src/upstream/silence-watch.js";

const TIMEOUT_MS = 40;

/** Lets promise callbacks (a finished check's `finally`) run between ticks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the mocked clock forward in small steps, as time would pass, letting promises settle in between. */
async function advance(ms: number, step = 5): Promise<void> {
  for (let passed = 0; passed < ms; passed += step) {
    mock.timers.tick(step);
    await settle();
  }
}

describe("SilenceWatch", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setInterval", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it("calls onSilent when a call is pending and nothing is heard, not before the timeout", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    await advance(TIMEOUT_MS - 5);
    assert.equal(calls, 0, "not before the timeout has passed");
    await advance(TIMEOUT_MS);
    assert.equal(calls, 1);
    end();
  });

  it("stays quiet while heard() keeps being called", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    for (let i = 0; i < 40; i++) {
      watch.heard();
      await advance(5);
    }
    assert.equal(calls, 0);
    end();
  });

  it("never suspects an idle connection: silence after the last call ends starts no check", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    await advance(TIMEOUT_MS / 2);
    end();
    // Idle for many timeouts: nothing is pending, so nothing is suspected.
    await advance(TIMEOUT_MS * 10);
    assert.equal(calls, 0, "no check while idle");
    // A call that begins after a long idle time is not suspected at once: its silence starts now.
    const next = watch.begin();
    await advance(TIMEOUT_MS - 10);
    assert.equal(calls, 0, "the idle time does not count against the new call");
    await advance(TIMEOUT_MS);
    assert.equal(calls, 1, "the watch still works: the new call's silence is noticed");
    next();
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
    await advance(TIMEOUT_MS + 10);
    assert.equal(calls, 1);
    // The check hangs for several timeouts: no second check may start meanwhile.
    await advance(TIMEOUT_MS * 4);
    assert.equal(calls, 1);
    finishCheck?.();
    await settle();
    // A finished check counts as hearing something: the next one waits for a new silent period.
    await advance(TIMEOUT_MS - 10);
    assert.equal(calls, 1, "a new silent period passes first");
    await advance(TIMEOUT_MS);
    assert.equal(calls, 2);
    finishCheck?.();
    assert.equal(maxRunning, 1);
    end();
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
    await advance(TIMEOUT_MS + 10);
    assert.ok(calls > 0, "onSilent with one call still pending");
    endSecond();
    const seen = calls;
    await advance(TIMEOUT_MS * 4);
    assert.equal(calls, seen);
  });

  it("stops the timer on stop()", async () => {
    let calls = 0;
    const watch = new SilenceWatch(TIMEOUT_MS, async () => {
      calls++;
    });
    const end = watch.begin();
    watch.stop();
    await advance(TIMEOUT_MS * 4);
    assert.equal(calls, 0);
    end();
  });
});
