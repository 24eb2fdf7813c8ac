import type { ServerResponse } from "node:http";
import { stringifyJson } from "../json/exact-integers.js";

/** Media type of a streamed tool call (Server-Sent Events). */
export const EVENT_STREAM_MEDIA_TYPE = "text/event-stream";

/**
 * How long a stream may stay silent before a comment line goes out: proxies and load balancers close connections
 * that carry nothing for about 30-60 s, and a caller can tell a slow tool from a dead connection.
 */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** A `progress` event: MCP's progress notification without its token. */
export interface StreamProgress {
  progress: number;
  total?: number;
  message?: string;
}

/** A `task` event: the status of the MCP task the call runs as (task-call.ts), as the upstream reports it. */
export interface StreamTask {
  status: string;
  message?: string;
}

/** A `log` event: an upstream `notifications/message` about this call, as MCP gives it. */
export interface StreamLog {
  level: string;
  logger?: string;
  data: unknown;
}

/**
 * A tool call answered as Server-Sent Events. Nothing is written until `start()` or the first event: an error
 * before that is still a plain HTTP error with its status. Then: `progress` and `log` events as they come, a
 * `: keep-alive` comment after each HEARTBEAT_INTERVAL_MS of silence, and one `result` or `error` event that
 * ends the stream. Writes after the end (or after the caller went away) are dropped. Any source may send
 * progress (a call's notifications, a task's status).
 */
export interface ToolStream {
  /** Sends the headers now (once); the heartbeat starts. */
  start(): void;
  progress(progress: StreamProgress): void;
  log(log: StreamLog): void;
  /** A `task` event: the status of the task a tool runs as (`{status, status_message?}`), each time it changes. */
  task(task: StreamTask): void;
  /** The `result` event (exactly the body a plain call answers), then the end. */
  result(body: unknown): void;
  /** The `error` event: `{status, ...body}` (the body sendError would write), then the end. */
  error(status: number, body: unknown): void;
  /** Ends the stream without an event (the caller left, or nothing is left to say). */
  close(): void;
  /** Whether the headers went out: from then on every answer is an event. */
  readonly started: boolean;
}

/** The open stream of each response that has one, for sendError (error-handler.ts) to end with an `error` event. */
const streams = new WeakMap<ServerResponse, ToolStream>();

/** The stream answering `res`, once its headers went out; else undefined. */
export function startedToolStream(res: ServerResponse): ToolStream | undefined {
  const stream = streams.get(res);
  return stream?.started ? stream : undefined;
}

/** Prepares `res` to answer as a stream (see ToolStream); writes nothing yet. */
export function openToolStream(res: ServerResponse, heartbeatMs = HEARTBEAT_INTERVAL_MS): ToolStream {
  let heartbeat: NodeJS.Timeout | undefined;
  // When something was last written: the heartbeat speaks only after a whole interval of silence.
  let spokeAt = 0;
  let started = false;

  const stop = (): void => {
    clearTimeout(heartbeat);
    heartbeat = undefined;
  };
  const writable = (): boolean => !res.writableEnded && !res.destroyed;
  const write = (text: string): void => {
    if (!started) stream.start();
    if (!writable()) return;
    spokeAt = Date.now();
    res.write(text);
  };
  const end = (text: string): void => {
    write(text);
    stop();
    if (writable()) res.end();
  };

  const stream: ToolStream = {
    start() {
      if (started || !writable()) return;
      started = true;
      const vary = res.getHeader("Vary");
      res.writeHead(200, {
        "Content-Type": `${EVENT_STREAM_MEDIA_TYPE}; charset=utf-8`,
        "Cache-Control": "no-store",
        // nginx buffers responses unless told not to; progress must reach the caller as it happens.
        "X-Accel-Buffering": "no",
        Vary: vary ? `${String(vary)}, Accept` : "Accept",
      });
      res.flushHeaders();
      // One timer for the stream, not one per event: when it fires early (something was written meanwhile), it
      // waits for the rest of the interval.
      const beat = (): void => {
        if (!writable()) return stop();
        if (Date.now() - spokeAt >= heartbeatMs) write(": keep-alive\n\n");
        heartbeat = setTimeout(beat, Math.max(1, heartbeatMs - (Date.now() - spokeAt)));
      };
      spokeAt = Date.now();
      heartbeat = setTimeout(beat, heartbeatMs);
      res.once("close", stop);
    },
    progress(progress) {
      const data: StreamProgress = { progress: progress.progress };
      if (progress.total !== undefined) data.total = progress.total;
      if (progress.message !== undefined) data.message = progress.message;
      write(formatEvent("progress", data));
    },
    log(log) {
      write(formatEvent("log", log));
    },
    task(task) {
      const data: { status: string; status_message?: string } = { status: task.status };
      if (task.message !== undefined) data.status_message = task.message;
      write(formatEvent("task", data));
    },
    result(body) {
      end(formatEvent("result", body));
    },
    error(status, body) {
      const fields = typeof body === "object" && body !== null && !Array.isArray(body) ? body : { detail: body };
      end(formatEvent("error", { status, ...fields }));
    },
    close() {
      stop();
      if (writable()) res.end();
    },
    get started() {
      return started;
    },
  };
  streams.set(res, stream);
  return stream;
}

/** One event: its name and its data as JSON (integers beyond 2^53 exact, as in a plain answer). */
export function formatEvent(name: string, data: unknown): string {
  return eventText(name, stringifyJson(data) ?? "null");
}

/**
 * One event with `data` as text. JSON has no raw line breaks, but each line gets its own `data:` field all the
 * same, so any text arrives whole (an SSE parser joins the fields with \n).
 */
export function eventText(name: string, data: string): string {
  return `event: ${name}\ndata: ${data.split(/\r\n|\r|\n/).join("\ndata: ")}\n\n`;
}
