import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { once } from "node:events";
import type { Readable } from "node:stream";
import {
  deserializeMessage,
  serializeMessage,
  type JSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/client";
import { rescueReply } from "../unreadable-reply.js";
import { LineFramer } from "./line-framer.js";

export interface StdioTransportOptions {
  command: string;
  args: readonly string[];
  /** The complete environment of the child (already merged by the caller). */
  env: Record<string, string>;
  cwd?: string;
  /** Receives each line the server writes to stderr (we never let stderr fill its pipe). */
  onStderrLine: (line: string) => void;
  /** How long close() waits after SIGTERM before it sends SIGKILL to the whole group. */
  killGraceMs?: number;
  /** Longest JSON-RPC line accepted from the server (default 64 MiB); longer ones are dropped and reported. */
  maxMessageBytes?: number;
}

/**
 * Process groups still running. Our children are detached (their own groups),
 * so if this process dies without close() (an uncaught exception, process.exit)
 * they would outlive it: the exit hook ends them synchronously.
 */
const liveGroups = new Set<number>();
process.once("exit", () => {
  for (const group of liveGroups) signalGroup(group, "SIGKILL");
});

/** Longest stderr line we pass on; a server that floods one endless line is cut, not buffered. */
const MAX_STDERR_LINE = 8192;

/**
 * A stdio client transport that runs the server in its own process group.
 *
 * Why not the SDK's StdioClientTransport: its close() signals only the direct
 * child, so servers started through wrappers (`npx`, `uvx`, `sh -c`) leave
 * their real process behind (typescript-sdk #2023). Spawning detached makes
 * the child a group leader, and close() signals the whole group. Framing uses
 * the SDK's own (de)serializeMessage, so the wire format is the SDK's.
 */
export class ProcessGroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  #child?: ChildProcessWithoutNullStreams;
  #exited = false;
  #exitDescription = "";
  readonly #framer: LineFramer;
  #outbox: string[] = [];
  #turnStarted = false;
  #flushed: Promise<void> | undefined;
  #settleFlush: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly options: StdioTransportOptions) {
    this.#framer = new LineFramer(
      options.maxMessageBytes ?? 64 * 1024 * 1024,
      (line) => this.#receive(line),
      (limit) => this.onerror?.(new Error(`the server wrote a line over ${limit} bytes on stdout; it was dropped`)),
    );
  }

  /** The child's PID once started (for tests and logs). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * The child's stderr (we read it ourselves, line by line). Having both `stderr` and `pid` is how the SDK
   * recognises a stdio transport: then a server that stays silent on the `server/discover` probe is taken for a
   * 2025 server (fallback to `initialize`), not for an outage.
   */
  get stderr(): Readable | null {
    return this.#child?.stderr ?? null;
  }

  /** "exited with code 1" / "killed by SIGKILL", once the child is gone. */
  get exitDescription(): string {
    return this.#exitDescription;
  }

  async start(): Promise<void> {
    if (this.#child) throw new Error("ProcessGroupStdioTransport already started");
    const child = spawn(this.options.command, [...this.options.args], {
      env: this.options.env,
      cwd: this.options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
      windowsHide: true,
    });
    this.#child = child;
    const group = child.pid === undefined ? undefined : -child.pid;
    if (group !== undefined) liveGroups.add(group);

    child.stdout.on("data", (chunk: Buffer) => this.#framer.push(chunk));
    const stderr = createInterface({ input: child.stderr, crlfDelay: Infinity });
    stderr.on("line", (line) =>
      this.options.onStderrLine(line.length > MAX_STDERR_LINE ? `${line.slice(0, MAX_STDERR_LINE)}…` : line),
    );
    // A write to a child that just died raises EPIPE here; the exit handler reports the loss.
    child.stdin.on("error", (error) => this.onerror?.(error));
    child.stdout.on("error", (error) => this.onerror?.(error));
    child.on("exit", (code, signal) => {
      this.#exited = true;
      this.#exitDescription = signal ? `killed by ${signal}` : `exited with code ${code ?? "unknown"}`;
    });
    child.on("close", () => {
      // The leader is gone; members it left behind are ended by close() or the exit hook.
      if (group !== undefined && !groupAlive(group)) liveGroups.delete(group);
      this.onclose?.();
    });

    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => {
        child.off("error", reject);
        child.on("error", (error) => this.onerror?.(error));
        resolve();
      });
      child.once("error", reject);
    });
  }

  #receive(line: string): void {
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch {
      // An answer we cannot read (`result: null`) fails its request at once instead of at its timeout.
      const rescued = rescueReply(line);
      if (rescued) return this.onmessage?.(rescued);
      // A line that is not JSON-RPC (a stray console.log): report it and keep reading.
      this.onerror?.(new Error(`the server wrote a line on stdout that is not JSON-RPC: ${line.slice(0, 200)}`));
      return;
    }
    this.onmessage?.(message);
  }

  /**
   * The first message of an event-loop turn is written at once; messages
   * sent after it in the same turn are queued and leave together in one
   * write at the turn's end (setImmediate). Concurrent calls then share a
   * pipe write and a wake-up of the server, and a lone call waits for
   * nothing. Resolves once written.
   */
  send(message: JSONRPCMessage): Promise<void> {
    const child = this.#child;
    if (!child || this.#exited || !child.stdin.writable) return Promise.reject(new Error("Not connected"));
    const line = serializeMessage(message);
    if (!this.#turnStarted) {
      this.#turnStarted = true;
      setImmediate(() => this.#endTurn(child));
      return child.stdin.write(line) ? Promise.resolve() : once(child.stdin, "drain").then(() => undefined);
    }
    this.#outbox.push(line);
    return (this.#flushed ??= new Promise<void>((resolve, reject) => {
      this.#settleFlush = { resolve, reject };
    }));
  }

  #endTurn(child: ChildProcessWithoutNullStreams): void {
    this.#turnStarted = false;
    const settle = this.#settleFlush;
    if (!settle) return;
    const batch = this.#outbox.join("");
    this.#outbox = [];
    this.#flushed = undefined;
    this.#settleFlush = undefined;
    if (this.#exited || !child.stdin.writable) return settle.reject(new Error("Not connected"));
    if (child.stdin.write(batch)) return settle.resolve();
    once(child.stdin, "drain").then(() => settle.resolve(), settle.reject);
  }

  async close(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.stdin.end();
    const group = -child.pid;
    signalGroup(group, "SIGTERM");
    const deadline = Date.now() + (this.options.killGraceMs ?? 2000);
    while (groupAlive(group) && Date.now() < deadline) await sleep(25);
    if (groupAlive(group)) signalGroup(group, "SIGKILL");
    liveGroups.delete(group);
    if (!this.#exited) await Promise.race([once(child, "exit"), sleep(1000)]);
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
