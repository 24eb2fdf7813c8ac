import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { TooManyTasksError } from "../../../src/errors/index.js";
import { prefersAsync } from "../../../src/http/task-call.js";
import { TaskStore, taskStoreOf, type TaskFailure } from "../../../src/http/task-store.js";

const noCancel = (): Promise<void> => Promise.resolve();
const failure: TaskFailure = { status: 502, detail: { code: "task_failed", message: "boom" } };

describe("TaskStore", () => {
  beforeEach(() => mock.timers.enable({ apis: ["Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it("hands out random unguessable ids, each record starting as working", () => {
    const store = new TaskStore();
    const a = store.add(undefined, "t", noCancel);
    const b = store.add(undefined, "t", noCancel);
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a.id, b.id);
    assert.equal(a.status, "working");
  });

  it("shows a task only to the caller who started it; an anonymous task to anyone holding its id", () => {
    const store = new TaskStore();
    const owned = store.add("jwt:oidc:ada", "t", noCancel);
    assert.equal(store.get(owned.id, "jwt:oidc:ada"), owned);
    assert.equal(store.get(owned.id, "jwt:oidc:bob"), undefined);
    assert.equal(store.get(owned.id, undefined), undefined);
    const anonymous = store.add(undefined, "t", noCancel);
    assert.equal(store.get(anonymous.id, undefined), anonymous);
    assert.equal(store.get(anonymous.id, "key:abc"), anonymous);
    assert.equal(store.get("no-such-id", undefined), undefined);
  });

  it("follows the upstream's statuses, and ignores any after the end", () => {
    const store = new TaskStore();
    const record = store.add(undefined, "t", noCancel);
    store.update(record, { status: "input_required", message: "asking", pollIntervalMs: 500 });
    assert.equal(record.status, "input_required");
    assert.equal(record.message, "asking");
    assert.equal(record.pollIntervalMs, 500);
    store.finish(record, { status: "completed", result: "done" });
    store.update(record, { status: "working", message: "late" });
    store.finish(record, { status: "failed", error: failure });
    assert.equal(record.status, "completed");
    assert.equal(record.message, "asking");
    assert.equal(record.result, "done");
    assert.equal(record.error, undefined);
  });

  it("keeps a finished task for the retention, then forgets it", () => {
    const store = new TaskStore({ retentionMs: 60_000 });
    const record = store.add(undefined, "t", noCancel);
    mock.timers.tick(10 * 60_000); // a running task never expires by itself
    assert.equal(store.get(record.id, undefined), record);
    store.finish(record, { status: "completed", result: 1 });
    mock.timers.tick(59_999);
    assert.equal(store.get(record.id, undefined), record);
    mock.timers.tick(1);
    assert.equal(store.get(record.id, undefined), undefined);
    assert.equal(store.size, 0);
  });

  it("forgets a finished task sooner when the upstream keeps it for less (its ttl)", () => {
    const store = new TaskStore({ retentionMs: 3_600_000 });
    const record = store.add(undefined, "t", noCancel);
    store.finish(record, { status: "failed", error: failure }, 5_000);
    mock.timers.tick(5_000);
    assert.equal(store.get(record.id, undefined), undefined);
  });

  it("when full, drops the oldest finished task first", () => {
    const store = new TaskStore({ maxTasks: 3 });
    const first = store.add(undefined, "t", noCancel);
    const second = store.add(undefined, "t", noCancel);
    const third = store.add(undefined, "t", noCancel);
    store.finish(third, { status: "completed", result: 3 });
    store.finish(second, { status: "completed", result: 2 });
    const fourth = store.add(undefined, "t", noCancel);
    assert.equal(store.size, 3);
    assert.equal(store.get(first.id, undefined), first, "running: kept");
    assert.equal(store.get(second.id, undefined), undefined, "the oldest finished one went");
    assert.equal(store.get(third.id, undefined), third);
    assert.equal(store.get(fourth.id, undefined), fourth);
  });

  it("drops expired tasks before anything else when full", () => {
    const store = new TaskStore({ maxTasks: 2, retentionMs: 1000 });
    const old = store.add(undefined, "t", noCancel);
    const live = store.add(undefined, "t", noCancel);
    store.finish(old, { status: "cancelled", error: failure });
    mock.timers.tick(1000);
    store.add(undefined, "t", noCancel);
    assert.equal(store.size, 2);
    assert.equal(store.get(live.id, undefined), live);
  });

  it("refuses a new task with 503 too_many_tasks when every kept task is still running", () => {
    const store = new TaskStore({ maxTasks: 2 });
    store.add(undefined, "t", noCancel);
    store.add(undefined, "t", noCancel);
    assert.throws(
      () => store.add(undefined, "t", noCancel),
      (error: unknown) =>
        error instanceof TooManyTasksError &&
        error.httpStatus === 503 &&
        error.code === "too_many_tasks" &&
        error.retryAfterSeconds > 0,
    );
    assert.equal(store.size, 2);
  });

  it("removes a record whose task never started", () => {
    const store = new TaskStore();
    const record = store.add(undefined, "t", noCancel);
    store.remove(record);
    assert.equal(store.get(record.id, undefined), undefined);
  });

  it("keeps one store per connection", () => {
    const a = {};
    assert.equal(taskStoreOf(a), taskStoreOf(a));
    assert.notEqual(taskStoreOf(a), taskStoreOf({}));
  });
});

describe("prefersAsync (RFC 7240 Prefer)", () => {
  it("finds respond-async among other preferences, in any case, with parameters", () => {
    assert.equal(prefersAsync("respond-async"), true);
    assert.equal(prefersAsync("return=minimal, Respond-Async; wait=10"), true);
    assert.equal(prefersAsync(["wait=5", "respond-async"]), true);
  });

  it("is false without it, or for a longer token that only contains it", () => {
    assert.equal(prefersAsync(undefined), false);
    assert.equal(prefersAsync("return=minimal"), false);
    assert.equal(prefersAsync("respond-asynchronously"), false);
    assert.equal(prefersAsync("x=respond-async"), false);
  });
});
