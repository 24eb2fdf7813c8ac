import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import { ProxyError } from "../errors/index.js";

/** JSON-RPC's code for an error of the server itself. */
const INTERNAL_ERROR = -32603;
/** 2025-11-25's resource-not-found code; 2026-07-28 answers -32602 instead (SEP-2164). */
const RESOURCE_NOT_FOUND_2025 = -32002;

/**
 * The one place where a failure becomes an MCP error for the MCP face, as src/http/error-handler.ts is for HTTP.
 *
 * - The upstream answered with a JSON-RPC error: its code, message and data are passed on as they came (a proxy
 *   that rewrote them would change what the client can act on).
 * - Bad input (an unknown tool or prompt, invalid arguments): -32602, as a server would answer.
 * - A resource not found: -32002 on a 2025 request, -32602 on a 2026-07-28 one.
 * - Anything else the proxy decided (upstream down 503, too slow 504, unreadable 502, login required...): -32603
 *   with the message the REST side gives, and `data: {status, code, ...}` naming the HTTP status and the stable
 *   code it would have had there, so both faces mean the same.
 */
export function toMcpError(error: unknown, modern: boolean): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const upstream = upstreamProtocolError(error);
  if (upstream) return new ProtocolError(upstream.code, upstream.message, upstream.data);
  if (!(error instanceof ProxyError)) {
    return new ProtocolError(INTERNAL_ERROR, "Internal error in the proxy");
  }
  const data = { status: error.httpStatus, code: error.code, ...error.extra };
  switch (error.code) {
    case "unknown_tool":
    case "invalid_arguments":
    case "bad_request":
      return new ProtocolError(ProtocolErrorCode.InvalidParams, error.message, data);
    case "not_found":
      return new ProtocolError(modern ? ProtocolErrorCode.InvalidParams : RESOURCE_NOT_FOUND_2025, error.message, data);
    default:
      return new ProtocolError(INTERNAL_ERROR, error.message, data);
  }
}

/** The upstream's own JSON-RPC error behind a proxy error (classify-error.ts keeps it as the cause), if any. */
function upstreamProtocolError(error: unknown): ProtocolError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof ProtocolError) return cause;
  }
  return undefined;
}
