import { ProxyError, type ProxyErrorOptions } from "./proxy-error.js";

/** One problem found while validating a request body, in FastAPI's shape. */
export interface ValidationProblem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The caller sent something that is not a usable request (malformed JSON, wrong media). */
export class BadRequestError extends ProxyError {
  override readonly name = "BadRequestError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("bad_request", 400, message, options);
  }
}

/**
 * Why a caller was not authenticated, sent as `detail.reason`: no credential at all, one that is not valid
 * (bad signature, wrong issuer or audience, unknown key, refused algorithm, malformed), or one that has expired.
 */
export type UnauthorizedReason = "missing" | "invalid" | "expired";

/**
 * 401: no credential, or one that does not hold. Rendered with `WWW-Authenticate: Bearer`, plus
 * `error="invalid_token"` (RFC 6750 section 3.1) when a token was sent and refused. The message says which
 * check failed, never what the token held.
 */
export class UnauthorizedError extends ProxyError {
  override readonly name = "UnauthorizedError";
  constructor(
    message = "Missing bearer token: send 'Authorization: Bearer <api key>'",
    readonly reason: UnauthorizedReason = "missing",
  ) {
    super("unauthorized", 401, message, { extra: { reason } });
  }

  /** The `WWW-Authenticate` value. */
  get challenge(): string {
    return this.reason === "missing" ? "Bearer" : 'Bearer error="invalid_token"';
  }
}

/** 403: a wrong API key, or a verified caller who is not on the server's allow-list. */
export class ForbiddenError extends ProxyError {
  override readonly name = "ForbiddenError";
  constructor(message = "Invalid API key") {
    super("forbidden", 403, message);
  }
}

/**
 * 503: a token could not be checked because the identity provider did not answer (its JWKS or discovery
 * document is unreachable, slow or broken). Not a 401: the token may be good, and a client told 401 would drop
 * it or send its user to log in again; never a pass either.
 */
export class AuthUnavailableError extends ProxyError {
  override readonly name = "AuthUnavailableError";
  constructor(
    message: string,
    /** Seconds a caller should wait before trying again (sent as `Retry-After`). */
    readonly retryAfterSeconds: number,
    options?: ProxyErrorOptions,
  ) {
    super("auth_unavailable", 503, message, options);
  }
}

export class NotFoundError extends ProxyError {
  override readonly name = "NotFoundError";
  constructor(method: string, path: string) {
    super("not_found", 404, `No route for ${method} ${path}`);
  }
}

/** The route exists but not for this method (e.g. GET on a tool route); `allow` is sent as the `Allow` header. */
export class MethodNotAllowedError extends ProxyError {
  override readonly name = "MethodNotAllowedError";
  constructor(
    method: string,
    path: string,
    readonly allow: string,
  ) {
    super("method_not_allowed", 405, `${method} is not allowed on ${path}: use ${allow}`);
  }
}

/**
 * A browser page from an origin outside `--cors-allow-origins` tried to call a tool: refused before the call, since
 * a cross-site POST may run without a preflight (CORS only hides the answer from the page).
 */
export class OriginNotAllowedError extends ProxyError {
  override readonly name = "OriginNotAllowedError";
  constructor() {
    super("origin_not_allowed", 403, "Tool calls from this Origin are not allowed (see --cors-allow-origins)");
  }
}

/** The Host header names no host we serve (DNS-rebinding guard, see --allowed-hosts). */
export class HostNotAllowedError extends ProxyError {
  override readonly name = "HostNotAllowedError";
  constructor() {
    super("host_not_allowed", 421, "The Host header names a host this proxy does not serve (see --allowed-hosts)");
  }
}

/**
 * A resource or prompt the upstream does not have, or a server that offers no resources or prompts at all: 404
 * `not_found`, the message saying which.
 */
export class ItemNotFoundError extends ProxyError {
  override readonly name = "ItemNotFoundError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("not_found", 404, message, options);
  }
}

/** The tool does not exist upstream (any longer), or the upstream has no such method. */
export class UnknownToolError extends ProxyError {
  override readonly name = "UnknownToolError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("unknown_tool", 404, message, options);
  }
}

export class PayloadTooLargeError extends ProxyError {
  override readonly name = "PayloadTooLargeError";
  constructor(limitBytes: number, options?: ProxyErrorOptions) {
    super("payload_too_large", 413, `Request body exceeds the limit of ${limitBytes} bytes`, options);
  }
}

/** The body's media type, charset or content encoding is not one the proxy reads. */
export class UnsupportedMediaTypeError extends ProxyError {
  override readonly name = "UnsupportedMediaTypeError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("unsupported_media_type", 415, message, options);
  }
}

/** The arguments do not match the tool's input schema (checked by us or by the upstream). */
export class InvalidArgumentsError extends ProxyError {
  override readonly name = "InvalidArgumentsError";
  constructor(
    message: string,
    readonly problems: ValidationProblem[],
    options?: ProxyErrorOptions,
  ) {
    super("invalid_arguments", 422, message, options);
  }
}

/** The tool ran and reported failure (`isError: true` in its result). */
export class ToolExecutionError extends ProxyError {
  override readonly name = "ToolExecutionError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("tool_error", 500, message, options);
  }
}

/** The upstream answered with a JSON-RPC error or something we cannot understand. */
export class UpstreamProtocolError extends ProxyError {
  override readonly name = "UpstreamProtocolError";
  constructor(message: string, httpStatus: 400 | 500 | 502 = 502, options?: ProxyErrorOptions) {
    super("upstream_error", httpStatus, message, options);
  }
}

/** The upstream cannot be reached now: not connected yet, down, or the connection dropped. */
export class UpstreamUnavailableError extends ProxyError {
  override readonly name = "UpstreamUnavailableError";
  constructor(
    message: string,
    /** Seconds a caller should wait before trying again (sent as `Retry-After`). */
    readonly retryAfterSeconds: number,
    options?: ProxyErrorOptions,
  ) {
    super("upstream_unavailable", 503, message, options);
  }
}

/**
 * The proxy itself cannot take the request now: it is shutting down, or every connection slot is busy
 * (`--max-connections`). With `Retry-After`, and the connection is closed after the answer.
 */
export class ProxyBusyError extends ProxyError {
  override readonly name = "ProxyBusyError";
  constructor(
    code: "shutting_down" | "too_many_connections",
    message: string,
    /** Seconds a caller should wait before trying again (sent as `Retry-After`). */
    readonly retryAfterSeconds: number,
  ) {
    super(code, 503, message);
  }
}

/** The upstream did not answer within the bound (the call was cancelled upstream). */
export class UpstreamTimeoutError extends ProxyError {
  override readonly name = "UpstreamTimeoutError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("upstream_timeout", 504, message, options);
  }
}

/**
 * The upstream speaks no MCP revision we speak (or not the one pinned): not an outage, so retrying soon will not
 * help. The message says what to change.
 */
export class UpstreamIncompatibleError extends ProxyError {
  override readonly name = "UpstreamIncompatibleError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("upstream_incompatible", 502, message, options);
  }
}

/**
 * The tool asked for input the proxy could not give (a form with required fields and no defaults, a URL to
 * open, the policy `decline`): there is no human behind a REST call. `extra` carries the server's message and,
 * for URL mode, the URL.
 */
export class InputRequiredError extends ProxyError {
  override readonly name = "InputRequiredError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("input_required", 409, message, options);
  }
}

export class InternalError extends ProxyError {
  override readonly name = "InternalError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("internal", 500, message, options);
  }
}

/** The caller went away before the answer; the upstream call was cancelled. Never seen by anyone but logs. */
export class ClientClosedRequestError extends ProxyError {
  override readonly name = "ClientClosedRequestError";
  constructor(message = "The caller closed the connection; the upstream call was cancelled") {
    super("client_closed", 499, message);
  }
}

/**
 * A server that forwards its callers' identity (`forward`) keeps one upstream session per identity, at most
 * `max_sessions`; every one is busy and a call needs a new one. Retry-After says when one may be free.
 */
export class TooManySessionsError extends ProxyError {
  override readonly name = "TooManySessionsError";
  constructor(
    message: string,
    /** Seconds a caller should wait before trying again (sent as `Retry-After`). */
    readonly retryAfterSeconds: number,
  ) {
    super("too_many_sessions", 503, message);
  }
}

/** The upstream refused the caller's forwarded credentials (HTTP 401): the caller must send valid ones. */
export class UpstreamUnauthorizedError extends ProxyError {
  override readonly name = "UpstreamUnauthorizedError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("upstream_unauthorized", 401, message, options);
  }
}

/**
 * An OAuth upstream has no usable token (none stored, the refresh failed or was refused, or a step-up needs a
 * human): a person must log in once. The message names the command (`mcpo auth <name> --config <file>`).
 */
export class LoginRequiredError extends ProxyError {
  override readonly name = "LoginRequiredError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("login_required", 503, message, options);
  }
}

/**
 * The upstream refused the call (HTTP 403): the caller's forwarded credentials are not allowed, or the proxy's
 * own (OAuth) credentials still lack scope after a step-up. Retrying as is will not help.
 */
export class UpstreamForbiddenError extends ProxyError {
  override readonly name = "UpstreamForbiddenError";
  constructor(message: string, options?: ProxyErrorOptions) {
    super("upstream_forbidden", 403, message, options);
  }
}

/**
 * 503: a server's task store is full of tasks still running (every finished one was evicted first), so no
 * `Prefer: respond-async` call can start another until one ends. Retry-After says when to try again.
 */
export class TooManyTasksError extends ProxyError {
  override readonly name = "TooManyTasksError";
  constructor(
    message: string,
    /** Seconds a caller should wait before trying again (sent as `Retry-After`). */
    readonly retryAfterSeconds: number,
  ) {
    super("too_many_tasks", 503, message);
  }
}

/** 404: no task by that id for this caller: never handed out, expired, lost in a restart, or another caller's. */
export class UnknownTaskError extends ProxyError {
  override readonly name = "UnknownTaskError";
  constructor(message: string) {
    super("unknown_task", 404, message);
  }
}

/** 409: DELETE on a task that has already ended (completed, failed or cancelled): nothing is left to cancel. */
export class TaskFinishedError extends ProxyError {
  override readonly name = "TaskFinishedError";
  constructor(message: string) {
    super("task_finished", 409, message);
  }
}

/**
 * 502: a tool call the upstream ran as a task did not complete: it failed (the task's own message), it was
 * cancelled upstream, or the upstream session that ran it ended (a 2025-11-25 server's tasks live in its session).
 */
export class UpstreamTaskError extends ProxyError {
  override readonly name = "UpstreamTaskError";
  constructor(code: "task_failed" | "task_cancelled" | "task_lost", message: string, options?: ProxyErrorOptions) {
    super(code, 502, message, options);
  }
}
