import { TooManySessionsError } from "../errors/index.js";

/** What the pool needs of a member (an upstream session of one identity). */
export interface PoolMemberOps<M> {
  /** Closes a member the pool let go of (idle, evicted, failed, or the pool closing). Never throws. */
  close(member: M, reason: EvictReason, drainMs?: number): Promise<void>;
  /** Whether a member is gone (its connection failed for good): the next lease opens a new one. */
  isGone(member: M): boolean;
}

export interface IdentityPoolOptions<M> extends PoolMemberOps<M> {
  /** Members kept at most. */
  maxSessions: number;
  /** A member unleased this long is closed. */
  idleTimeoutMs: number;
  /** What the 503 names: e.g. `upstream "github" (StreamableHTTP-https://...)`. */
  who: string;
}

export type EvictReason = "idle" | "evicted" | "gone" | "closed";

export interface Lease<M> {
  readonly member: M;
  /** Ends the lease (idempotent): the member becomes idle when no other lease holds it. */
  release(): void;
}

export interface PoolCounts {
  /** Members open or opening. */
  open: number;
  /** Members leased now. */
  busy: number;
  max: number;
}

interface Entry<M> {
  readonly key: string;
  readonly opening: Promise<M>;
  member: M | undefined;
  /** Leases held (calls running or waiting for the member to open). */
  leases: number;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * Upstream sessions by identity key: one member per key, opened on its first lease, shared only by leases of the
 * same key, never by two keys. At most `maxSessions`: a new key at the cap takes the place of the longest idle
 * member, or is refused (503 `too_many_sessions`) when every member is leased. A member idle for `idleTimeoutMs`
 * is closed, as is one found gone. Keys are opaque here (hashes): nothing is logged.
 */
export class IdentityPool<M> {
  readonly #options: IdentityPoolOptions<M>;
  readonly #entries = new Map<string, Entry<M>>();
  #closed = false;

  constructor(options: IdentityPoolOptions<M>) {
    this.#options = options;
  }

  /** A lease on the member of `key`, opened with `open` when there is none; rejects as `open` does, or 503. */
  async acquire(key: string, open: () => Promise<M>): Promise<Lease<M>> {
    if (this.#closed) throw new TooManySessionsError(`${this.#options.who} is closing`, 1);
    let entry = this.#entries.get(key);
    if (entry?.member !== undefined && this.#options.isGone(entry.member)) {
      this.#remove(entry, "gone");
      entry = undefined;
    }
    if (!entry) {
      this.#makeRoom();
      entry = this.#open(key, open);
    }
    entry.leases++;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    let member: M;
    try {
      member = await entry.opening;
    } catch (error) {
      entry.leases--;
      throw error;
    }
    const held = entry;
    let released = false;
    return {
      member,
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        held.lastUsed = Date.now();
        if (held.leases === 0 && this.#entries.get(held.key) === held) this.#armIdle(held);
      },
    };
  }

  /** Drops a member that failed for good (its next lease opens a new one); a no-op for one already dropped. */
  forget(member: M): void {
    for (const entry of this.#entries.values()) {
      if (entry.member === member) {
        this.#remove(entry, "gone");
        return;
      }
    }
  }

  counts(): PoolCounts {
    let busy = 0;
    for (const entry of this.#entries.values()) if (entry.leases > 0) busy++;
    return { open: this.#entries.size, busy, max: this.#options.maxSessions };
  }

  /** Closes every member, letting calls running on them finish for up to `drainMs` first. */
  async close(drainMs = 0): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(
      entries.map(async (entry) => {
        clearTimeout(entry.idleTimer);
        const member = await entry.opening.catch(() => undefined);
        if (member !== undefined) await this.#options.close(member, "closed", drainMs);
      }),
    );
  }

  #open(key: string, open: () => Promise<M>): Entry<M> {
    const opening = open();
    const entry: Entry<M> = { key, opening, member: undefined, leases: 0, lastUsed: Date.now(), idleTimer: undefined };
    this.#entries.set(key, entry);
    opening.then(
      (member) => {
        entry.member = member;
        // Dropped while opening (the pool closed, or it was evicted): close what opened.
        if (this.#entries.get(key) !== entry) void this.#options.close(member, "closed");
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry;
  }

  /** At the cap: the longest idle member makes room, or the call is refused. */
  #makeRoom(): void {
    if (this.#entries.size < this.#options.maxSessions) return;
    let oldest: Entry<M> | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.leases > 0 || entry.member === undefined) continue;
      if (!oldest || entry.lastUsed < oldest.lastUsed) oldest = entry;
    }
    if (!oldest) {
      throw new TooManySessionsError(
        `${this.#options.who} has ${this.#options.maxSessions} caller sessions open (max_sessions), all busy; try again shortly`,
        1,
      );
    }
    this.#remove(oldest, "evicted");
  }

  #armIdle(entry: Entry<M>): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (entry.leases === 0 && this.#entries.get(entry.key) === entry) this.#remove(entry, "idle");
    }, this.#options.idleTimeoutMs);
    entry.idleTimer.unref?.();
  }

  #remove(entry: Entry<M>, reason: EvictReason): void {
    if (this.#entries.get(entry.key) !== entry) return;
    this.#entries.delete(entry.key);
    clearTimeout(entry.idleTimer);
    if (entry.member !== undefined) void this.#options.close(entry.member, reason);
  }
}
