import { randomUUID } from "node:crypto";
import { ProtocolError, type JSONRPCMessage } from "@modelcontextprotocol/client";

/**
 * Error responses made here carry this value, which no upstream can know: they are never taken for an upstream's
 * own JSON-RPC error (STYLE 16), nor can an upstream pass its errors off as ours.
 */
const MARK = `mcpo-unreadable-${randomUUID()}`;

interface UnreadableData {
  mcpo_unreadable: string;
  /** What was wrong with the answer, in words. */
  reason: string;
}

/**
 * An answer the SDK would drop as invalid JSON-RPC (so its request would wait for its whole timeout), read again:
 * when it carries the id of a request and a `result` or `error` that breaks the schema (`result: null`, a number),
 * an error response for that id is made here, so the request fails at once. Anything else (a notification, a
 * request from the server, a line that is not JSON): undefined, and the transport reports and drops it as before.
 */
export function rescueReply(line: string): JSONRPCMessage | undefined {
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
  const data: UnreadableData = { mcpo_unreadable: MARK, reason };
  return { jsonrpc: "2.0", id, error: { code: -32603, message: `unreadable answer: ${reason}`, data } };
}

/** An error made by rescueReply (not one the upstream sent). */
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
