import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { droppedReply, rescueReply } from "../unreadable-reply.js";
import { deserializeMessage, type JSONRPCMessage, type Transport } from "@modelcontextprotocol/client";
import type { Logger } from "../../log/logger.js";
import { UnencodableMessageError, formatSize } from "./errors.js";
import { LineFramer, type DroppedLine } from "./line-framer.js";
import { DEFAULT_MAX_BUFFERED_CHARS, Outbox } from "./outbox.js";
import { StdoutLimiter } from "./stdout-limiter.js";
import { endGroup, groupAlive, liveGroups, type StopTimes } from "./process-group.js";
import { serializeWireMessage } from "./wire-json.js";

export interface StdioTransportOptions {
  command: string;
  args: readonly string[];
  /** The complete environment of the child (already merged by the caller). */
  env: Record<string, string>;
  cwd?: string;
  /** Receives each line the server writes to stderr, cut at MAX_STDERR_LINE bytes (never buffered beyond). */
  onStderrLine: (line: string) => void;
  /** Where dropped replies, skipped lines and notification floods are reported (at warn). */
  log?: Logger;
  /** How long close() waits for the server to exit after closing its stdin, before SIGTERM (default 1 s). */
  stdinGraceMs?: number;
  /** How long close() waits after SIGTERM before it sends SIGKILL to the whole group (default 2 s). */
  killGraceMs?: number;
  /** Longest JSON-RPC line accepted from the server (default 64 MiB); longer ones are dropped and reported. */
  maxMessageBytes?: number;
  /** Requests buffered for a server that does not read its stdin, before send() refuses more (default 16 MiB). */
  maxBufferedChars?: number;
}

/** Longest stderr line passed on (bytes); the rest of a longer line is skipped while it is read. */
export const MAX_STDERR_LINE = 8192;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** After the server's exit, how long its stdout may still drain (a grandchild may hold it open for good). */
const EXIT_DRAIN_MS = 200;
const RESOLVED = Promise.resolve();

/**
 * A stdio client transport that runs the server in its own process group.
 *
 * Why not the SDK's StdioClientTransport: its close() signals only the direct
 * child, so servers started through wrappers (`npx`, `uvx`, `sh -c`) leave
 * their real process behind (typescript-sdk #2023). Spawning detached makes
 * the child a group leader, and close() ends the whole group. Framing uses
 * the SDK's own (de)serializeMessage, so the wire format is the SDK's.
 *
 * The connection is lost (onclose, once) when the server exits (after a short
 * drain of its stdout, even if a grandchild still holds the pipe) or closes
 * its stdout while running; what is left of its group is then ended.
 */
export class ProcessGroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  #child?: ChildProcessWithoutNullStreams;
  #group: number | undefined;
  #exited = false;
  #lost = false;
  #exitDescription = "";
  #outbox: Outbox | undefined;
  readonly #limiter: StdoutLimiter;
  readonly #framer: LineFramer;
  readonly #stopTimes: StopTimes;

  constructor(private readonly options: StdioTransportOptions) {
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.#limiter = new StdoutLimiter(options.log);
    this.#framer = new LineFramer({
      maxLineBytes: maxMessageBytes,
      overflow: "drop",
      onLine: (line) => this.#receive(line),
      onOverflow: (limit) =>
        options.log?.warn(
          { stream: "stdout", limit },
          `the server is writing a line over ${formatSize(limit)}; dropping it`,
        ),
      onDropped: (line) => this.#dropped(line, maxMessageBytes),
    });
    this.#stopTimes = { stdinGraceMs: options.stdinGraceMs ?? 1000, killGraceMs: options.killGraceMs ?? 2000 };
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

  /** "exited with code 1" / "killed by SIGKILL" / "closed its stdout while running", once the server is gone. */
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
    this.#group = child.pid === undefined ? undefined : -child.pid;
    if (this.#group !== undefined) liveGroups.add(this.#group);
    this.#outbox = new Outbox(child.stdin, this.options.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS);

    child.stdout.on("data", (chunk: Buffer) => this.#framer.push(chunk));
    const stderr = new LineFramer({
      maxLineBytes: MAX_STDERR_LINE,
      overflow: "truncate",
      onLine: this.options.onStderrLine,
    });
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // A write to a child that just died raises EPIPE here; the exit handler reports the loss.
    child.stdin.on("error", (error) => this.onerror?.(error));
    child.stdout.on("error", (error) => this.onerror?.(error));
    child.stderr.on("error", () => undefined);
    child.stdout.on("end", () => {
      // The end of stdout is the end of the connection, whether or not the process lives on. Its exit, if it
      // comes now, says why.
      if (this.#exited) return;
      setTimeout(() => this.#lose("closed its stdout while running"), EXIT_DRAIN_MS).unref();
    });
    child.on("exit", (code, signal) => {
      this.#exited = true;
      this.#exitDescription = signal ? `killed by ${signal}` : `exited with code ${code ?? "unknown"}`;
      // Replies written just before the exit may still be in the pipe; a grandchild holding stdout open must
      // not keep the calls waiting, so the drain is bounded.
      setTimeout(() => this.#lose(), EXIT_DRAIN_MS).unref();
    });
    child.on("close", () => this.#lose());

    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => {
        child.off("error", reject);
        child.on("error", (error) => this.onerror?.(error));
        resolve();
      });
      child.once("error", reject);
    });
  }

  /** The connection is gone: tell the SDK once (pending calls fail), and end whatever is left of the group. */
  #lose(description?: string): void {
    if (this.#lost) return;
    this.#lost = true;
    if (!this.#exited && description) this.#exitDescription = description;
    this.#outbox?.close();
    this.#limiter.close();
    const child = this.#child;
    child?.stdout.destroy();
    child?.stderr.destroy();
    const group = this.#group;
    if (group !== undefined) {
      if (groupAlive(group)) void endGroup(group, child?.stdin, this.#stopTimes);
      else liveGroups.delete(group);
    }
    this.onclose?.();
  }

  #receive(line: string): void {
    // Not an object: not JSON-RPC (a stray console.log). Counted, not parsed.
    if (line.charCodeAt(0) !== 123 /* { */ && line.trimStart()[0] !== "{") return this.#limiter.noise(line);
    if (this.#limiter.skipsUnparsed(line)) return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch {
      // An answer we cannot read (`result: null`) fails its request at once instead of at its timeout.
      const rescued = rescueReply(line);
      if (rescued) return this.onmessage?.(rescued);
      return this.#limiter.noise(line);
    }
    if (!("id" in message) && "method" in message && !this.#limiter.admit(message.method, message.params)) return;
    this.onmessage?.(message);
  }

  /**
   * A line over the limit was dropped. If it was an answer (its id is at one of its ends), the call waiting for it
   * gets an error in its place now, instead of waiting for its timeout.
   */
  #dropped(line: DroppedLine, limit: number): void {
    const id = replyId(line);
    this.options.log?.warn(
      { stream: "stdout", bytes: line.bytes, limit, ...(id === undefined ? {} : { id }) },
      `dropped a line of ${formatSize(line.bytes)} from stdout, over the limit of ${formatSize(limit)}`,
    );
    if (id === undefined) return;
    this.onmessage?.(
      droppedReply(
        id,
        `the reply was ${formatSize(line.bytes)}, over the proxy's limit of ${formatSize(limit)} for one message; the proxy dropped it`,
      ),
    );
  }

  /**
   * Never throws: a message that cannot be encoded, or a server whose input is full (UpstreamBusyError), gives a
   * rejected promise, which the SDK turns into the call's failure at once (cleaning up after it).
   */
  send(message: JSONRPCMessage): Promise<void> {
    const outbox = this.#outbox;
    if (!outbox || this.#lost || this.#exited) return Promise.reject(new Error("Not connected"));
    // A cancelled request still waiting here is dropped with its cancellation: the server never sees either.
    if ("method" in message && message.method === "notifications/cancelled") {
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if ((typeof requestId === "number" || typeof requestId === "string") && outbox.drop(requestId)) return RESOLVED;
    }
    let line: string;
    try {
      line = serializeWireMessage(message);
    } catch (error) {
      return Promise.reject(new UnencodableMessageError(error));
    }
    try {
      outbox.push(line, "method" in message && "id" in message ? message.id : undefined);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return RESOLVED;
  }

  /**
   * Stops the server the way the MCP specification recommends: close its stdin, wait for it to exit, then SIGTERM
   * its whole group, wait, then SIGKILL.
   */
  async close(): Promise<void> {
    const child = this.#child;
    const group = this.#group;
    if (!child || group === undefined) return;
    await endGroup(group, child.stdin, this.#stopTimes);
    if (!this.#exited) await Promise.race([once(child, "exit"), sleep(1000)]);
    this.#lose();
  }
}

/** The JSON-RPC id of a dropped line, when one of its ends has it (`{"jsonrpc":"2.0","id":7,...` or `..."id":7}`). */
function replyId(line: DroppedLine): number | string | undefined {
  const head = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+|"[^"\\]{0,100}")/.exec(
    line.head.toString("latin1"),
  );
  const tail = /"id"\s*:\s*(-?\d+|"[^"\\]{0,100}")\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$/.exec(
    line.tail.toString("latin1"),
  );
  const found = head?.[1] ?? tail?.[1];
  if (found === undefined) return undefined;
  return found.startsWith('"') ? found.slice(1, -1) : Number(found);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
