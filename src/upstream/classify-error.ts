import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import {
  InvalidArgumentsError,
  ProxyError,
  UnknownToolError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "../errors/index.js";

export interface ErrorContext {
  /** Who failed, for the message: e.g. `upstream "stdio-npx"`. */
  upstream: string;
  /** What we were doing: e.g. `tool "echo"`. */
  operation: string;
  /** The bound that applied, for timeout messages. */
  timeoutMs?: number;
  /** Seconds to suggest in Retry-After when the upstream is unavailable. */
  retryAfterSeconds: number;
}

/** OS-level codes that mean "the upstream cannot be reached right now". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "ENOENT",
  "EACCES",
]);

/**
 * The one function that turns SDK, fetch and OS errors into ProxyErrors.
 * Everything above the upstream layer sees ProxyErrors only.
 */
export function classifyError(error: unknown, context: ErrorContext): ProxyError {
  if (error instanceof ProxyError) return error;
  const { upstream, operation } = context;
  const options = { cause: error };

  if (error instanceof McpError) {
    const upstreamMessage = stripMcpPrefix(error.message);
    switch (error.code) {
      case ErrorCode.RequestTimeout:
        return new UpstreamTimeoutError(
          `${upstream} did not answer ${operation} within ${formatSeconds(context.timeoutMs)}; the call was cancelled upstream`,
          options,
        );
      case ErrorCode.ConnectionClosed:
        return new UpstreamUnavailableError(
          `The connection to ${upstream} closed during ${operation}; the call may or may not have run`,
          context.retryAfterSeconds,
          options,
        );
      case ErrorCode.InvalidParams:
        return new InvalidArgumentsError(
          `${upstream} rejected the arguments of ${operation}: ${upstreamMessage}`,
          [{ loc: ["body"], msg: upstreamMessage, type: "upstream_invalid_params" }],
          options,
        );
      case ErrorCode.MethodNotFound:
        return new UnknownToolError(`${upstream} does not support ${operation}: ${upstreamMessage}`, options);
      case ErrorCode.InvalidRequest:
      case ErrorCode.ParseError:
        return new UpstreamProtocolError(
          `${upstream} refused ${operation} as malformed: ${upstreamMessage}`,
          400,
          options,
        );
      case ErrorCode.InternalError:
        return new UpstreamProtocolError(`${upstream} failed during ${operation}: ${upstreamMessage}`, 500, options);
      default:
        return new UpstreamProtocolError(
          `${upstream} answered ${operation} with error ${error.code}: ${upstreamMessage}`,
          502,
          options,
        );
    }
  }

  if (error instanceof StreamableHTTPError || error instanceof SseError) {
    const status = error.code ?? 0;
    // 404 or 400 on an established session: the upstream forgot it (restart or expiry).
    if (status === 404 || status === 400 || status >= 500 || status === 0) {
      return new UpstreamUnavailableError(
        `${upstream} is unavailable (${error.message}) during ${operation}`,
        context.retryAfterSeconds,
        options,
      );
    }
    return new UpstreamProtocolError(
      `${upstream} answered ${operation} with HTTP ${status}: ${error.message}`,
      502,
      options,
    );
  }

  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (
    (code !== undefined && UNREACHABLE_CODES.has(code)) ||
    message === "Not connected" ||
    message === "fetch failed"
  ) {
    return new UpstreamUnavailableError(
      `${upstream} is unreachable (${code ?? message}) during ${operation}`,
      context.retryAfterSeconds,
      options,
    );
  }
  return new UpstreamProtocolError(`${upstream} failed during ${operation}: ${message}`, 502, options);
}

/** The SDK prefixes "MCP error -32602: "; callers want the upstream's own words. */
function stripMcpPrefix(message: string): string {
  return message.replace(/^(MCP error -?\d+: )+/, "");
}

/** `code` of an error or of its cause chain (fetch wraps socket errors in `cause`). */
function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export function formatSeconds(ms: number | undefined): string {
  return ms === undefined ? "the time limit" : `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * The upstream no longer knows our Streamable HTTP session (it restarted, or
 * the session expired): HTTP 404 per the spec, 400 "No valid session ID" from
 * some servers (server-everything). The request never ran.
 */
export function isLostSession(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  return error.code === 404 || (error.code === 400 && /session/i.test(error.message));
}
