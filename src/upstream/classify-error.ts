import {
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SseError,
  UnauthorizedError as SdkUnauthorizedError,
} from "@modelcontextprotocol/client";
import { isUnreadableReply } from "./unreadable-reply.js";
import {
  BadRequestError,
  InputRequiredError,
  InvalidArgumentsError,
  ItemNotFoundError,
  LoginRequiredError,
  ProxyError,
  UnknownToolError,
  UpstreamForbiddenError,
  UpstreamIncompatibleError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  UpstreamUnavailableError,
} from "../errors/index.js";
import { StepUpLimitError } from "./oauth/step-up.js";
import { UnencodableMessageError, UpstreamBusyError } from "./transports/errors.js";

export interface ErrorContext {
  /** Who failed, for the message: e.g. `upstream "stdio-npx"`. */
  upstream: string;
  /** What we were doing: e.g. `tool "echo"`. */
  operation: string;
  /** The bound that applied, for timeout messages. */
  timeoutMs?: number;
  /** Seconds to suggest in Retry-After when the upstream is unavailable. */
  retryAfterSeconds: number;
  /** What to change when the upstream speaks no revision we speak (see era.ts). */
  incompatibleHint?: string;
  /**
   * While connecting, any HTTP failure means the upstream is not available (the retry loop tries again). On an
   * established session only a lost session does (404, or 400 about the session): any other status fails the one
   * request (502), and the session goes on serving the other calls.
   */
  connecting?: boolean;
  /**
   * The upstream is given callers' credentials (`forward`): its HTTP 401 and 403 are the caller's to fix, and
   * are answered as such (401 `upstream_unauthorized`, 403 `upstream_forbidden`), while connecting or not.
   */
  credentials?: boolean;
  /** The upstream uses OAuth: the command a human runs to log in (a 401 then means "log in"). */
  loginCommand?: string;
}

/** A stdio server's process ended while we were connecting to it. */
export class ServerExitedError extends Error {
  override readonly name = "ServerExitedError";
  constructor(
    /** "exited with code 3", "killed by SIGKILL". */
    readonly exit: string,
    cause: unknown,
  ) {
    super(`the server process ${exit}`, { cause });
  }
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

/** JSON-RPC codes of MCP 2026-07-28 that say the two sides share no revision to talk in. */
const INCOMPATIBLE_CODES = new Set<number>([
  -32020, // the request lacked (or mismatched) the protocol version header
  ProtocolErrorCode.UnsupportedProtocolVersion, // -32022
]);

/**
 * The one function that turns SDK, fetch and OS errors into ProxyErrors.
 * Everything above the upstream layer sees ProxyErrors only. Errors are told
 * apart by origin first (STYLE 16): a `ProtocolError` is the upstream's own
 * JSON-RPC answer, an `SdkError` is something that happened here (a timeout,
 * a closed connection, a failed negotiation), an `SdkHttpError` or `SseError`
 * is an HTTP status, anything else comes from the OS or fetch.
 */
export function classifyError(error: unknown, context: ErrorContext): ProxyError {
  if (error instanceof ProxyError) return error;
  const local = fromStdioTransport(error, context);
  if (local) return local;
  if (error instanceof ServerExitedError) {
    // What stopped the attempt decides (a version refusal stays incompatible); the exit is told for an outage.
    const inner = classifyError(error.cause, context);
    if (!(inner instanceof UpstreamUnavailableError)) return inner;
    return new UpstreamUnavailableError(
      `${context.upstream}: the server process ${error.exit} during ${context.operation}`,
      context.retryAfterSeconds,
      { cause: error },
    );
  }
  const authorization = context.loginCommand === undefined ? undefined : fromAuthorization(error, context);
  if (authorization) return authorization;
  if (isUnreadableReply(error)) {
    const { kind, reason } = error.data;
    return new UpstreamProtocolError(
      kind === "dropped"
        ? `${context.upstream} answered ${context.operation}, but ${reason}`
        : `${context.upstream} sent an answer to ${context.operation} that the proxy cannot read (${reason}); the call may have run`,
      502,
      { cause: error },
    );
  }
  if (error instanceof ProtocolError) return fromUpstreamError(error, context);
  if (error instanceof SdkHttpError) {
    // A 2026-07-28 server refuses a 2025 request with HTTP 400 and a JSON-RPC version error in the body.
    const refusal = versionRefusal(error);
    return refusal ? incompatible(refusal, context) : fromHttpStatus(error.status, error.message, error, context);
  }
  if (error instanceof SseError) {
    // No status: the event stream failed without an HTTP answer (a network error, a stream cut short).
    if (typeof error.code !== "number" || error.code <= 0) {
      return new UpstreamUnavailableError(
        `${context.upstream}'s event stream failed (${error.message}) during ${context.operation}`,
        context.retryAfterSeconds,
        { cause: error },
      );
    }
    return fromHttpStatus(error.code, error.message, error, context);
  }
  if (error instanceof SdkError) return fromLocalError(error, context);

  const { upstream, operation } = context;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (isUnreachable(error) || message === "Not connected") {
    return new UpstreamUnavailableError(
      `${upstream} is unreachable (${code ?? message}) during ${operation}`,
      context.retryAfterSeconds,
      { cause: error },
    );
  }
  return new UpstreamProtocolError(`${upstream} failed during ${operation}: ${message}`, 502, { cause: error });
}

/**
 * OAuth outcomes, for an upstream that uses OAuth: the SDK gave up for want of a human (UnauthorizedError after
 * a redirect, or a 401 after re-authorization) → 503 login_required naming the command; a 403 after step-up, or
 * past the step-up limit → 403 upstream_forbidden. Messages never carry a token or the server's error text.
 */
function fromAuthorization(error: unknown, context: ErrorContext): ProxyError | undefined {
  const { upstream, operation } = context;
  const login = (): LoginRequiredError =>
    new LoginRequiredError(
      `${upstream} needs a login before ${operation}: run \`${context.loginCommand}\` and follow the URL it prints`,
      { cause: error, extra: { command: context.loginCommand } },
    );
  if (error instanceof SdkUnauthorizedError) return login();
  if (error instanceof StepUpLimitError) {
    return new UpstreamForbiddenError(`${upstream} refused ${operation}: ${error.message}`, { cause: error });
  }
  if (error instanceof SdkHttpError) {
    if (error.code === SdkErrorCode.ClientHttpAuthentication || error.status === 401) return login();
    if (error.code === SdkErrorCode.ClientHttpForbidden || error.status === 403) {
      return new UpstreamForbiddenError(
        `${upstream} refused ${operation} with HTTP 403 (the granted scope is not enough, also after a step-up)`,
        { cause: error },
      );
    }
  }
  return undefined;
}

/** What the stdio transport refused to send (see transports/errors.ts). */
function fromStdioTransport(error: unknown, context: ErrorContext): ProxyError | undefined {
  const { upstream, operation } = context;
  if (error instanceof UpstreamBusyError) {
    // Nothing was sent: the caller may try again. (Not a lost connection: the server is slow, not gone.)
    return new UpstreamUnavailableError(`${upstream} is busy (${error.message}); try again shortly`, 1, {
      cause: error,
      extra: { reason: "busy" },
    });
  }
  if (error instanceof UnencodableMessageError) {
    return new BadRequestError(`${operation} was not sent to ${upstream}: ${error.message}`, { cause: error });
  }
  return undefined;
}

/** The upstream answered with a JSON-RPC error of its own. */
function fromUpstreamError(error: ProtocolError, context: ErrorContext): ProxyError {
  const { upstream, operation } = context;
  const options = { cause: error };
  const said = stripMcpPrefix(error.message);
  if (INCOMPATIBLE_CODES.has(error.code)) return incompatible(error, context);
  if (ITEM_OPERATION.test(operation) && isNotFound(error, said)) {
    return new ItemNotFoundError(`${upstream} has no ${operation}: ${said}`, options);
  }
  switch (error.code) {
    case ProtocolErrorCode.InvalidParams:
      // 2026-07-28 (and the v2 SDK's servers on both eras) answer an unknown tool with -32602 too.
      if (/\b(unknown tool|tool\b.*\bnot found|not found)\b/i.test(said)) {
        return new UnknownToolError(`${upstream} does not know ${operation}: ${said}`, options);
      }
      return new InvalidArgumentsError(
        `${upstream} rejected the arguments of ${operation}: ${said}`,
        [{ loc: ["body"], msg: said, type: "upstream_invalid_params" }],
        options,
      );
    case ProtocolErrorCode.MethodNotFound:
      return new UnknownToolError(`${upstream} does not support ${operation}: ${said}`, options);
    case ProtocolErrorCode.InvalidRequest:
    case ProtocolErrorCode.ParseError:
      return new UpstreamProtocolError(`${upstream} refused ${operation} as malformed: ${said}`, 400, options);
    case ProtocolErrorCode.InternalError:
      return new UpstreamProtocolError(`${upstream} failed during ${operation}: ${said}`, 500, options);
    case ProtocolErrorCode.MissingRequiredClientCapability:
      // -32021: the tool needs something of the client we do not offer (URL elicitation, sampling, roots).
      return new InputRequiredError(
        `${upstream} needs a client capability the proxy does not offer for ${operation} (there is no user behind a REST call): ${said}`,
        options,
      );
    case ProtocolErrorCode.UrlElicitationRequired:
      return new InputRequiredError(
        `${upstream} needs the user to open a URL before ${operation} can run; a REST call cannot do that: ${said}`,
        { ...options, extra: { urls: elicitationUrls(error.data) } },
      );
    default:
      return new UpstreamProtocolError(
        `${upstream} answered ${operation} with error ${error.code}: ${said}`,
        502,
        options,
      );
  }
}

/** Operations on one resource or prompt (`resource "demo://a"`, `prompt "greet"`): a "not found" is about it. */
const ITEM_OPERATION = /^(resource|prompt) "/;

/**
 * The upstream's "no such resource or prompt": -32002 (resources/read on 2025 servers of earlier SDKs), or -32602
 * with the URI as its data (resources/read on 2026-07-28, and the v2 SDK on both eras) or saying "not found" (the
 * v1 SDK's "Resource … not found", "Prompt … not found").
 */
function isNotFound(error: ProtocolError, said: string): boolean {
  if (error.code === ProtocolErrorCode.ResourceNotFound) return true;
  if (error.code !== ProtocolErrorCode.InvalidParams) return false;
  const uri = (error.data as { uri?: unknown } | undefined)?.uri;
  return typeof uri === "string" || /\bnot found\b/i.test(said);
}

/** Something that happened on our side of the connection. */
function fromLocalError(error: SdkError, context: ErrorContext): ProxyError {
  const { upstream, operation } = context;
  const options = { cause: error };
  switch (error.code) {
    case SdkErrorCode.RequestTimeout:
      return new UpstreamTimeoutError(
        `${upstream} did not answer ${operation} within ${formatSeconds(context.timeoutMs)}; the call was cancelled upstream`,
        options,
      );
    case SdkErrorCode.ConnectionClosed:
      return new UpstreamUnavailableError(
        `The connection to ${upstream} closed during ${operation}; the call may or may not have run`,
        context.retryAfterSeconds,
        options,
      );
    case SdkErrorCode.NotConnected:
    case SdkErrorCode.SendFailed:
      return new UpstreamUnavailableError(
        `${upstream} is not connected (${error.message}) during ${operation}`,
        context.retryAfterSeconds,
        options,
      );
    case SdkErrorCode.EraNegotiationFailed:
      // The probe wraps what stopped it: a network failure is an outage, and so is the connection closing (a
      // server that died on the probe is respawned by dial() when that can help). The rest is a real mismatch.
      if (error.cause !== undefined) return classifyError(error.cause, context);
      if (/\bclosed\b/.test(error.message)) {
        return new UpstreamUnavailableError(
          `${upstream} closed the connection during ${operation}: ${error.message}`,
          context.retryAfterSeconds,
          options,
        );
      }
      return incompatible(error, context);
    case SdkErrorCode.CapabilityNotSupported:
    case SdkErrorCode.InputRequiredRoundsExceeded:
      return new InputRequiredError(
        `${upstream} asked for input during ${operation} that the proxy cannot give: ${error.message}`,
        options,
      );
    case SdkErrorCode.InvalidResult:
      return new UpstreamProtocolError(
        `${upstream} answered ${operation} with a result that breaks the MCP schema or the tool's outputSchema: ${error.message}`,
        502,
        options,
      );
    default:
      return new UpstreamProtocolError(`${upstream} failed during ${operation}: ${error.message}`, 502, options);
  }
}

/** An HTTP status from a Streamable HTTP or SSE upstream. */
function fromHttpStatus(status: number, message: string, error: unknown, context: ErrorContext): ProxyError {
  const { upstream, operation } = context;
  if (context.credentials && status === 401) {
    return new UpstreamUnauthorizedError(
      `${upstream} refused the forwarded credentials (HTTP 401) during ${operation}: send valid ones`,
      { cause: error },
    );
  }
  if (context.credentials && status === 403) {
    return new UpstreamForbiddenError(
      `${upstream} refused the forwarded credentials (HTTP 403) during ${operation}: they lack the access it needs`,
      { cause: error },
    );
  }
  // While connecting, 404, 400 and 5xx mean it is not there (yet): the retry loop tries again. On a session,
  // only a lost session does (isLostSession); a 500 on one call says nothing about the others in flight.
  const lost = context.connecting
    ? status === 404 || status === 400 || status >= 500
    : status === 404 || (status === 400 && /session/i.test(message));
  if (lost) {
    return new UpstreamUnavailableError(
      `${upstream} is unavailable (HTTP ${status}: ${message}) during ${operation}`,
      context.retryAfterSeconds,
      { cause: error },
    );
  }
  // A 401 from a server without OAuth settings: say what would help (the issue-11 complaint: "retries, then down").
  const hint =
    status === 401 && context.loginCommand === undefined
      ? " (the server wants authorization: give it an oauth block in the config file, or --oauth, and log in with mcpo auth)"
      : "";
  return new UpstreamProtocolError(`${upstream} answered ${operation} with HTTP ${status}: ${message}${hint}`, 502, {
    cause: error,
  });
}

function incompatible(error: Error & { data?: unknown }, context: ErrorContext): UpstreamIncompatibleError {
  const supported = upstreamVersions(error.data);
  return new UpstreamIncompatibleError(
    `${context.upstream} speaks no MCP revision we offered for ${context.operation}: ${error.message}` +
      (supported ? ` (it supports ${supported.join(", ")})` : "") +
      (context.incompatibleHint ? `. ${context.incompatibleHint}` : ""),
    { cause: error, extra: supported ? { upstream_versions: supported } : {} },
  );
}

/** The JSON-RPC version error (-32020/-32021/-32022) in the body of an HTTP error, if that is what it carries. */
function versionRefusal(error: SdkHttpError): ProtocolError | undefined {
  const text = typeof error.data?.text === "string" ? error.data.text : error.message;
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  try {
    const body = JSON.parse(text.slice(start)) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const { code, message, data } = body.error ?? {};
    if (typeof code !== "number" || !INCOMPATIBLE_CODES.has(code)) return undefined;
    return ProtocolError.fromError(code, typeof message === "string" ? message : "unsupported protocol version", data);
  } catch {
    return undefined;
  }
}

/** The revisions an upstream listed in a -32022 error's data (`{supported, requested}`), if it did. */
function upstreamVersions(data: unknown): string[] | undefined {
  const supported = (data as { supported?: unknown } | undefined)?.supported;
  return Array.isArray(supported) && supported.every((v) => typeof v === "string") ? supported : undefined;
}

/** The URLs of a -32042 error's URL-mode elicitations (`data.elicitations[].url`). */
function elicitationUrls(data: unknown): string[] {
  const list = (data as { elicitations?: unknown } | undefined)?.elicitations;
  if (!Array.isArray(list)) return [];
  return list
    .map((entry) => (entry as { url?: unknown } | null)?.url)
    .filter((url): url is string => typeof url === "string");
}

/**
 * Servers on the v1 SDK put "MCP error -32602: " in the message they send (its McpError message carries the
 * prefix); callers want the upstream's own words.
 */
function stripMcpPrefix(message: string): string {
  return message.replace(/^(MCP error -?\d+: )+/, "");
}

/**
 * A stream the session lives on broke: the legacy SSE event stream failed (SseError), or a Streamable HTTP
 * response or GET stream ended in an error (the SDK reports that only as an Error whose message starts "SSE
 * stream disconnected", in StreamableHTTPClientTransport._handleSseStream). Not the failure of one POST (an HTTP
 * status) nor a message that could not be parsed: those fail one request, not the session.
 */
export function isBrokenStream(error: unknown): boolean {
  return error instanceof SseError || (error instanceof Error && error.message.startsWith("SSE stream disconnected"));
}

/** The upstream could not be reached at all (nothing answered): the error, or one in its cause chain, says so. */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  return (
    (code !== undefined && UNREACHABLE_CODES.has(code)) || (error instanceof Error && error.message === "fetch failed")
  );
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
 * some servers (server-everything). The request never ran. (2026-07-28 has no
 * sessions: a modern upstream never answers this way.)
 */
export function isLostSession(error: unknown): boolean {
  if (!(error instanceof SdkHttpError)) return false;
  return error.status === 404 || (error.status === 400 && /session/i.test(error.message));
}

export { isUnreadableReply } from "./unreadable-reply.js";
