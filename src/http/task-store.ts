import { randomUUID } from "node:crypto";
import { TooManyTasksError } from "../errors/index.js";
import type { TaskSnapshot, TaskStatus } from "../upstream/index.js";

/** What GET /tasks/{id} reports of a failed task: the status and body a blocking call would have answered. */
export interface TaskFailure {
  readonly status: number;
  readonly detail: unknown;
}

/** One task the proxy handed out (`Prefer: respond-async`). */
export interface TaskRecord {
  /** The proxy's own id: random, unguessable, never the upstream's. */
  readonly id: string;
  /** Who started it (see ownerOf in task-routes.ts); undefined when no caller identity is known. */
  readonly owner: string | undefined;
  readonly tool: string;
  status: TaskStatus;
  message?: string;
  createdAt?: string;
  updatedAt?: string;
  pollIntervalMs?: number;
  /** The JSON body a blocking call would have answered, once completed. */
  result?: unknown;
  error?: TaskFailure;
  /** When the record goes (ms since the epoch); set when the task ends. */
  expiresAt?: number;
  /** Cancels it upstream (tasks/cancel). */
  cancel: () => Promise<void>;
}

export interface TaskStoreOptions {
  /** Tasks kept per server, running and finished. Default 1000. */
  maxTasks?: number;
  /** How long a finished task (and its result) is kept, at most; the upstream's own ttl, if shorter, wins. Default 1 h. */
  retentionMs?: number;
}

export const TASK_STORE_DEFAULTS = { maxTasks: 1000, retentionMs: 3_600_000 } as const;

const TERMINAL: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/**
 * The tasks of one server, in memory: bounded (when full, the oldest finished task is dropped first; when every
 * one is still running, a new one is refused with 503), finished ones expire. A restart loses them all.
 */
export class TaskStore {
  readonly #records = new Map<string, TaskRecord>();
  readonly #maxTasks: number;
  readonly retentionMs: number;

  constructor(options: TaskStoreOptions = {}) {
    const settings = { ...TASK_STORE_DEFAULTS, ...options };
    this.#maxTasks = settings.maxTasks;
    this.retentionMs = settings.retentionMs;
  }

  get size(): number {
    return this.#records.size;
  }

  /** A new record, status `working`; throws TooManyTasksError when the store is full of running tasks. */
  add(owner: string | undefined, tool: string, cancel: () => Promise<void>): TaskRecord {
    if (this.#records.size >= this.#maxTasks) this.#makeRoom();
    const record: TaskRecord = { id: randomUUID(), owner, tool, status: "working", cancel };
    this.#records.set(record.id, record);
    return record;
  }

  /** Drops a record whose task never started (or was answered at once after all). */
  remove(record: TaskRecord): void {
    this.#records.delete(record.id);
  }

  /** The record, if it exists, has not expired, and belongs to `owner` (or to nobody in particular). */
  get(id: string, owner: string | undefined): TaskRecord | undefined {
    const record = this.#records.get(id);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.#records.delete(id);
      return undefined;
    }
    return record.owner === undefined || record.owner === owner ? record : undefined;
  }

  /** A status the upstream reported (ignored once the record has ended). */
  update(record: TaskRecord, snapshot: TaskSnapshot): void {
    if (isTerminal(record.status)) return;
    if (!isTerminal(snapshot.status)) record.status = snapshot.status;
    if (snapshot.message !== undefined) record.message = snapshot.message;
    if (snapshot.createdAt !== undefined) record.createdAt = snapshot.createdAt;
    if (snapshot.updatedAt !== undefined) record.updatedAt = snapshot.updatedAt;
    if (snapshot.pollIntervalMs !== undefined) record.pollIntervalMs = snapshot.pollIntervalMs;
  }

  /** The task ended: kept with its result or failure until the retention (or the upstream's `ttlMs`) runs out. */
  finish(
    record: TaskRecord,
    end: { status: "completed"; result: unknown } | { status: "failed" | "cancelled"; error: TaskFailure },
    ttlMs?: number,
  ): void {
    if (isTerminal(record.status)) return;
    record.status = end.status;
    if (end.status === "completed") record.result = end.result;
    else record.error = end.error;
    record.updatedAt = new Date().toISOString();
    record.expiresAt = Date.now() + Math.min(this.retentionMs, ttlMs ?? this.retentionMs);
  }

  #makeRoom(): void {
    const now = Date.now();
    let oldestFinished: string | undefined;
    for (const [id, record] of this.#records) {
      if (record.expiresAt === undefined) continue;
      if (record.expiresAt <= now) this.#records.delete(id);
      else oldestFinished ??= id;
    }
    if (this.#records.size < this.#maxTasks) return;
    if (oldestFinished === undefined) {
      throw new TooManyTasksError(
        `This server already runs ${this.#maxTasks} tasks, the most the proxy keeps; try again when one has ended`,
        5,
      );
    }
    this.#records.delete(oldestFinished);
  }
}

/** One store per upstream connection (a server's, replaced with it on a reload): the tool handler and the routes share it. */
const stores = new WeakMap<object, TaskStore>();

export function taskStoreOf(connection: object): TaskStore {
  let store = stores.get(connection);
  if (!store) {
    store = new TaskStore();
    stores.set(connection, store);
  }
  return store;
}
