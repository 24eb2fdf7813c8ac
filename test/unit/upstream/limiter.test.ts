import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { ConcurrencyLimiter, LimiterFullError, LimiterTimeoutError } from "../../../src/upstream/limiter.js";

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("ConcurrencyLimiter", () => {
  it("hands out slots with tryAcquire up to max, then undefined", () => {
    const limiter = new ConcurrencyLimiter(2, 5);
    const first = limiter.tryAcquire();
    const second = limiter.tryAcquire();
    assert.equal(typeof first, "function");
    assert.equal(typeof second, "function");
    assert.equal(limiter.tryAcquire(), undefined);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.waiting, 0);
    first?.();
    assert.equal(limiter.active, 1);
    assert.equal(typeof limiter.tryAcquire(), "function");
    assert.equal(limiter.active, 2);
  });

  it("resolves acquire at once while a slot is free", async () => {
    const limiter = new ConcurrencyLimiter(1, 0);
    const release = await limiter.acquire();
    assert.equal(limiter.active, 1);
    release();
    assert.equal(limiter.active, 0);
  });

  it("queues beyond max and serves waiters first come, first served as slots are released", async () => {
    const limiter = new ConcurrencyLimiter(1, 3);
    const holder = limiter.tryAcquire();
    assert.ok(holder);
    const order: string[] = [];
    const releases = new Map<string, () => void>();
    for (const name of ["a", "b", "c"]) {
      void limiter.acquire().then((release) => {
        order.push(name);
        releases.set(name, release);
      });
    }
    await settle();
    assert.deepEqual(order, []);
    assert.equal(limiter.active, 1);
    assert.equal(limiter.waiting, 3);

    holder();
    await settle();
    assert.deepEqual(order, ["a"]);
    assert.equal(limiter.active, 1, "the slot passes to the waiter, it is not freed");
    assert.equal(limiter.waiting, 2);

    releases.get("a")?.();
    await settle();
    assert.deepEqual(order, ["a", "b"]);
    releases.get("b")?.();
    await settle();
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.equal(limiter.waiting, 0);
    releases.get("c")?.();
    assert.equal(limiter.active, 0);
  });

  it("frees one slot only when a release function is called twice", async () => {
    const limiter = new ConcurrencyLimiter(2, 2);
    const first = limiter.tryAcquire();
    const second = limiter.tryAcquire();
    assert.ok(first && second);
    first();
    first();
    assert.equal(limiter.active, 1);

    // With a waiter queued, a second call must not hand a second slot away.
    const third = limiter.tryAcquire();
    assert.ok(third);
    let served = 0;
    void limiter.acquire().then(() => served++);
    void limiter.acquire().then(() => served++);
    await settle();
    assert.equal(limiter.waiting, 2);
    second();
    second();
    await settle();
    assert.equal(served, 1);
    assert.equal(limiter.waiting, 1);
    assert.equal(limiter.active, 2);
  });

  it("rejects with LimiterFullError naming the running and waiting counts when the queue is full", async () => {
    const limiter = new ConcurrencyLimiter(2, 1);
    limiter.tryAcquire();
    limiter.tryAcquire();
    void limiter.acquire();
    await assert.rejects(limiter.acquire(), (error: unknown) => {
      assert.ok(error instanceof LimiterFullError);
      assert.equal(error.name, "LimiterFullError");
      assert.equal(error.message, "2 calls running and 1 waiting");
      return true;
    });
    assert.equal(limiter.waiting, 1);
  });

  it("refuses at once with a queue of 0 when every slot is taken", async () => {
    const limiter = new ConcurrencyLimiter(1, 0);
    limiter.tryAcquire();
    await assert.rejects(limiter.acquire(), { name: "LimiterFullError", message: "1 calls running and 0 waiting" });
  });

  it("removes an aborted waiter from the queue, rejecting with the signal's reason; it never takes a slot", async () => {
    const limiter = new ConcurrencyLimiter(1, 2);
    const holder = limiter.tryAcquire();
    assert.ok(holder);
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    let servedLater = false;
    const later = limiter.acquire().then((release) => {
      servedLater = true;
      return release;
    });
    assert.equal(limiter.waiting, 2);

    const reason = new Error("caller went away");
    controller.abort(reason);
    await assert.rejects(aborted, (error: unknown) => error === reason);
    assert.equal(limiter.waiting, 1);

    holder();
    const release = await later;
    assert.equal(servedLater, true);
    assert.equal(limiter.active, 1);
    assert.equal(limiter.waiting, 0);
    release();
    assert.equal(limiter.active, 0);
  });

  it("ignores an abort after the waiter was served", async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const holder = limiter.tryAcquire();
    assert.ok(holder);
    const controller = new AbortController();
    const pending = limiter.acquire(controller.signal);
    holder();
    const release = await pending;
    controller.abort();
    assert.equal(limiter.active, 1);
    release();
    assert.equal(limiter.active, 0);
  });

  it("refuses at once a waiter whose signal is already aborted, and gives it no slot", async () => {
    const limiter = new ConcurrencyLimiter(1, 2);
    const first = limiter.tryAcquire()!;
    const reason = new Error("gone");
    await assert.rejects(limiter.acquire(AbortSignal.abort(reason)), (error) => error === reason);
    assert.equal(limiter.waiting, 0);
    first();
    assert.equal(limiter.active, 0);
  });

  it("takes a waiter whose time runs out out of the queue (LimiterTimeoutError); it never takes a slot", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const limiter = new ConcurrencyLimiter(1, 5);
      const holder = limiter.tryAcquire();
      assert.ok(holder);
      let outcome: unknown;
      limiter.acquire(undefined, 1000).then(
        () => (outcome = "served"),
        (error: unknown) => (outcome = error),
      );
      mock.timers.tick(999);
      await settle();
      assert.equal(outcome, undefined, "still waiting at 999 ms");
      assert.equal(limiter.waiting, 1);
      mock.timers.tick(1);
      await settle();
      assert.ok((outcome as unknown) instanceof LimiterTimeoutError, String(outcome));
      assert.equal(limiter.waiting, 0);
      holder();
      assert.equal(limiter.active, 0, "the released slot went to nobody");
      const again = limiter.tryAcquire();
      await assert.rejects(limiter.acquire(undefined, 0), LimiterTimeoutError, "no time left: refused at once");
      again?.();
    } finally {
      mock.timers.reset();
    }
  });

  it("clears a served waiter's timer: it is not rejected later", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const limiter = new ConcurrencyLimiter(1, 5);
      const holder = limiter.tryAcquire();
      assert.ok(holder);
      const served = limiter.acquire(undefined, 1000);
      holder();
      const release = await served;
      mock.timers.tick(5000);
      await settle();
      assert.equal(limiter.active, 1);
      release();
      assert.equal(limiter.active, 0);
    } finally {
      mock.timers.reset();
    }
  });
});
