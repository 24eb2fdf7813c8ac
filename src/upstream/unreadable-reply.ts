import { randomUUID } from "node:crypto";
import {
  ProtocolError,
  deserializeMessage,
  type FetchLike,
  type JSONRPCErrorResponse,
} from "@modelcontextprotocol/client";

/**
 * Error responses made here carry this value, which no upstream can know: they are never taken for an upstream's
 * own JSON-RPC error (STYLE 16), nor can an upstream pass its errors off as ours.
 */
const MARK = `mcpo-unreadable-${randomUUID()}`;

interface UnreadableData {
  mcpo_unreadable: string;
  /** `unreadable`: it breaks JSON-RPC (see rescueReply); `dropped`: the stdio transport dropped it, over its size limit. */
  kind: "unreadable" | "dropped";
  /** What was wrong with the answer, in words. */
  reason: string;
}

/**
 * An answer the SDK would drop as invalid JSON-RPC (so its request would wait for its whole timeout), read again:
 * when it carries the id of a request and a `result` or `error` that breaks the schema (`result: null`, a number),
 * an error response for that id is made here, so the request fails at once. Anything else (a notification, a
 * request from the server, a line that is not JSON): undefined, and the transport reports and drops it as before.
 */
export function rescueReply(line: string): JSONRPCErrorResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || "method" in value) return undefined;
  const { id } = value as { id?: unknown };
  if (typeof id !== "string" && typeof id !== "number") return undefined;
  let reason: string;
  if ("result" in value)
    reason = isObject(value.result)
      ? "it is not valid JSON-RPC 2.0"
      : `its result is ${shape(value.result)}, not an object`;
  else if ("error" in value) reason = `its error is ${shape(value.error)}, not a JSON-RPC error object`;
  else return undefined;
  return localErrorReply(id, "unreadable", reason);
}

/** An answer the stdio transport dropped unread (a line over its limit), as the error that fails its request. */
export function droppedReply(id: string | number, reason: string): JSONRPCErrorResponse {
  return localErrorReply(id, "dropped", reason);
}

function localErrorReply(id: string | number, kind: UnreadableData["kind"], reason: string): JSONRPCErrorResponse {
  const data: UnreadableData = { mcpo_unreadable: MARK, kind, reason };
  return { jsonrpc: "2.0", id, error: { code: -32603, message: `${kind} answer: ${reason}`, data } };
}

/** An error made by rescueReply or droppedReply (not one the upstream sent). */
export function isUnreadableReply(error: unknown): error is ProtocolError & { data: UnreadableData } {
  return (
    error instanceof ProtocolError && (error.data as Partial<UnreadableData> | undefined)?.mcpo_unreadable === MARK
  );
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shape(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object that is not one";
  return `a ${typeof value}`;
}

/** Could a line hold a top-level `result` or `error` that is not an object? (Cheap; a yes is then checked.) */
const SUSPECT = /"(?:result|error)"\s*:\s*[^\s{]/;

/**
 * The same rescue for the HTTP transports, whose SDK code parses what it reads itself: the body of every answer
 * (a JSON body, or the `data:` lines of an event stream) passes here, and an answer the SDK would drop is
 * replaced by rescueReply's error for its id. A line that cannot hold such an answer (most) is passed on as read.
 */
export function rescuingFetch(base: FetchLike): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    const type = response.headers.get("content-type") ?? "";
    if (!response.body || !(type.includes("application/json") || type.includes("text/event-stream"))) return response;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    const init2 = { status: response.status, statusText: response.statusText, headers };
    if (type.includes("application/json")) return new Response(rescueLine(await response.text(), ""), init2);
    return new Response(response.body.pipeThrough(rescueStream()), init2);
  };
}

/** Complete lines are checked and passed on as they arrive; a partial line waits for its end. */
function rescueStream(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let partial = "";
  return new TransformStream({
    transform(chunk, controller) {
      const text = partial + decoder.decode(chunk, { stream: true });
      const end = text.lastIndexOf("\n") + 1;
      // The usual chunk is whole events with nothing suspect: passed on as it came, not encoded again.
      if (partial === "" && end === text.length && !SUSPECT.test(text)) return controller.enqueue(chunk);
      partial = text.slice(end);
      if (end === 0) return;
      const complete = text.slice(0, end);
      controller.enqueue(
        encoder.encode(SUSPECT.test(complete) ? complete.split("\n").map(rescueEventLine).join("\n") : complete),
      );
    },
    flush(controller) {
      const rest = partial + decoder.decode();
      if (rest) controller.enqueue(encoder.encode(rescueEventLine(rest)));
    },
  });
}

function rescueEventLine(line: string): string {
  return line.startsWith("data:") ? rescueLine(line.slice(line.startsWith("data: ") ? 6 : 5), "data: ") : line;
}

/** `line` as read, or, when it is an answer the SDK would drop, the error that fails its request. */
function rescueLine(line: string, prefix: string): string {
  if (SUSPECT.test(line)) {
    try {
      deserializeMessage(line);
    } catch {
      const rescued = rescueReply(line);
      if (rescued) return prefix + JSON.stringify(rescued);
    }
  }
  return prefix + line;
}
