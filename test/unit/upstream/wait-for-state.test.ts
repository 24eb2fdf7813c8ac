import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { waitForReady } from "../../../src/upstream/wait-for-state.js";

class Failed extends Error {}
class Gone extends Error {}
const fail = (): Error => new Failed("upstream unavailable");
const gone = (): Error => new Gone("caller went away");

describe("waitForReady", () => {
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

  it("rejects with fail() after the timeout", async () => {
    const emitter = new EventEmitter();
    const started = Date.now();
    await assert.rejects(waitForReady(emitter, 30, fail, gone), (error: unknown) => error instanceof Failed);
    assert.ok(Date.now() - started >= 25);
    assert.equal(emitter.listenerCount("state"), 0);
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
    const started = Date.now();
    await assert.rejects(waitForReady(emitter as never, 300, fail, gone, AbortSignal.abort()), Gone);
    assert.ok(Date.now() - started < 100);
    assert.equal(emitter.listenerCount("state"), 0);
  });
});
