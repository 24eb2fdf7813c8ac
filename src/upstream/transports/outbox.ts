import type { Writable } from "node:stream";
import { UpstreamBusyError } from "./errors.js";

/** Requests buffered for one stdio server (not yet taken by its pipe) before more are refused: 16 MiB. */
export const DEFAULT_MAX_BUFFERED_CHARS = 16 * 1024 * 1024;

/** Largest batch written to the pipe in one go. */
const BATCH_CHARS = 64 * 1024;

interface Entry {
  line: string;
  /** The JSON-RPC id of a request (what a cancellation names). */
  id: string | number | undefined;
}

/**
 * The lines waiting for a stdio server's stdin. The first line of an event-loop turn is written at once; lines
 * sent after it in the same turn leave together at the turn's end (setImmediate), so concurrent calls share a pipe
 * write and a wake-up of the server. A server that stops reading makes lines wait here, not in the stream's own
 * unbounded buffer: requests are refused with UpstreamBusyError once `maxChars` wait, and a request cancelled
 * while still waiting is dropped with its cancellation, so a call that already ended is never delivered.
 */
export class Outbox {
  #queue: Entry[] = [];
  #queuedChars = 0;
  #turnStarted = false;
  #waitingForDrain = false;
  #closed = false;

  constructor(
    private readonly stdin: Writable,
    private readonly maxChars: number = DEFAULT_MAX_BUFFERED_CHARS,
  ) {}

  /** Characters waiting: ours and those the stream holds. */
  get bufferedChars(): number {
    return this.#queuedChars + this.stdin.writableLength;
  }

  /** Queues or writes a line; throws UpstreamBusyError for a request (`id` set) when the buffer is full. */
  push(line: string, id?: string | number): void {
    if (this.#closed) return;
    const buffered = this.bufferedChars;
    // One request always fits in an empty buffer, however large; only requests are refused (answers and
    // notifications such as cancellations are small and must go).
    if (id !== undefined && buffered > 0 && buffered + line.length > this.maxChars) {
      throw new UpstreamBusyError(buffered);
    }
    if (!this.#turnStarted) {
      this.#turnStarted = true;
      setImmediate(() => this.#endTurn());
      if (this.#queue.length === 0 && !this.stdin.writableNeedDrain) {
        this.stdin.write(line);
        return;
      }
    }
    this.#queue.push({ line, id });
    this.#queuedChars += line.length;
  }

  /** Drops the request `id` if it is still waiting here; true when it was (nothing of it reached the server). */
  drop(id: string | number): boolean {
    if (this.#queue.length === 0) return false;
    const index = this.#queue.findIndex((entry) => entry.id === id);
    if (index === -1) return false;
    this.#queuedChars -= this.#queue[index]!.line.length;
    this.#queue.splice(index, 1);
    return true;
  }

  /** Forgets everything still waiting (the server is gone). */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedChars = 0;
  }

  #endTurn(): void {
    this.#turnStarted = false;
    this.#flush();
  }

  /** Writes waiting lines while the stream takes them; the rest wait for its `drain`. */
  #flush(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      if (this.stdin.writableNeedDrain || !this.stdin.writable) {
        if (!this.#waitingForDrain && this.stdin.writable) {
          this.#waitingForDrain = true;
          this.stdin.once("drain", () => {
            this.#waitingForDrain = false;
            this.#flush();
          });
        }
        return;
      }
      let batch = "";
      let taken = 0;
      while (taken < this.#queue.length && batch.length < BATCH_CHARS) batch += this.#queue[taken++]!.line;
      this.#queue.splice(0, taken);
      this.#queuedChars -= batch.length;
      this.stdin.write(batch);
    }
  }
}
