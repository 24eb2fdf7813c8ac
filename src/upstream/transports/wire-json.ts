import { serializeMessage, type JSONRPCMessage } from "@modelcontextprotocol/client";
import { restoreExactIntegers } from "../../json/exact-integers.js";

/**
 * A JSON-RPC message as one line of the stdio wire: the SDK's own framing,
 * with integers beyond 2^53 from the caller's body written digit for digit
 * (see src/json/exact-integers.ts).
 */
export function serializeWireMessage(message: JSONRPCMessage): string {
  return restoreExactIntegers(serializeMessage(message));
}

/**
 * A request body as a remote transport is about to POST it: the SDK wrote it
 * with JSON.stringify, which leaves big integers as markers; they become
 * digits here. Anything that is not a string passes unchanged.
 */
export function exactRequestBody<T>(body: T): T {
  return typeof body === "string" ? (restoreExactIntegers(body) as T) : body;
}
