import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { waitForReady } from "../../../src/upstream/wait-for-state.js";

class Failed extends Error {}
class Gone extends Error {}
const fail = (): Error => new Failed("upstream unavailable");
const gone = (): Error => new Gone("caller went away");

/** Lets promise callbacks run (setImmediate is not mocked). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("waitForReady", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("resolves on the state ready and removes its listener", async () => {
    const emitter = new EventEmitter();
    const waiting = waitForReady(emitter, 5000, fail, gone);
    assert.equal(emitter.listenerCount("state"), 1);
    emitter.emit("state", "connecting");
    emitter.emit("state", "reconnecting");
    emitter.emit("state", "ready");
    assert.equal(await waiting, undefined);
    assert.equal(emitter.listenerCount("state"), 0);
  });

  it("rejects with fail() on the state closed", async () => {
    const emitter = new EventEmitter();
    const waiting = waitForReady(emitter, 5000, fail, gone);
    emitter.emit("state", "down");
    emitter.emit("state", "closed");
    await assert.rejects(waiting, (error: unknown) => error instanceof Failed);
    assert.equal(emitter.listenerCount("state"), 0);
  });

  it("rejects with fail() after the timeout, not before", async () => {
    const emitter = new EventEmitter();
    let outcome: unknown;
    waitForReady(emitter, 30, fail, gone).then(
      () => (outcome = "resolved"),
      (error: unknown) => (outcome = error),
    );
    mock.timers.tick(29);
    await settle();
    assert.equal(outcome, undefined, "still waiting at 29 ms");
    mock.timers.tick(1);
    await settle();
    assert.ok((outcome as unknown) instanceof Failed, String(outcome));
    assert.equal(emitter.listenerCount("state"), 0);
  });

  it("clears its timer once settled: no rejection after ready", async () => {
    const emitter = new EventEmitter();
    const waiting = waitForReady(emitter, 30, fail, gone);
    emitter.emit("state", "ready");
    assert.equal(await waiting, undefined);
    mock.timers.tick(1000);
    await settle();
  });

  it("rejects with gone() when the signal aborts, and forgets the signal", async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    let abortListeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      abortListeners++;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      abortListeners--;
      remove(...args);
    }) as typeof remove;

    const waiting = waitForReady(emitter, 5000, fail, gone, signal);
    assert.equal(abortListeners, 1);
    controller.abort();
    await assert.rejects(waiting, (error: unknown) => error instanceof Gone);
    assert.equal(emitter.listenerCount("state"), 0);
    assert.equal(abortListeners, 0);
  });

  it("ignores state changes after it settled", async () => {
    const emitter = new EventEmitter();
    const waiting = waitForReady(emitter, 5000, fail, gone);
    emitter.emit("state", "ready");
    emitter.emit("state", "closed");
    assert.equal(await waiting, undefined);
  });

  it("rejects at once with gone() when the signal is already aborted", async () => {
    const emitter = new EventEmitter();
    await assert.rejects(waitForReady(emitter as never, 300, fail, gone, AbortSignal.abort()), Gone);
    assert.equal(emitter.listenerCount("state"), 0);
  });
});
