/**
 * The one error hierarchy of mcpo-ts. Every failure a caller can see is a
 * ProxyError: it carries a stable string `code`, the HTTP status it renders as
 * and the original error as `cause`. SDK and OS errors are turned into these in
 * exactly one place (src/upstream/classify-error.ts); the HTTP layer renders
 * them in exactly one place (src/http/error-handler.ts). A message is shown to callers, in `/health` and in logs,
 * so URLs in it lose their credentials and query values here (redact.ts), whatever quoted them.
 */
import { redactText } from "./redact.js";

export type ProxyErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "auth_unavailable"
  | "not_found"
  | "method_not_allowed"
  | "origin_not_allowed"
  | "host_not_allowed"
  | "unknown_tool"
  | "payload_too_large"
  | "unsupported_media_type"
  | "invalid_arguments"
  | "tool_error"
  | "upstream_error"
  | "upstream_unavailable"
  | "shutting_down"
  | "too_many_connections"
  | "upstream_timeout"
  | "upstream_incompatible"
  | "input_required"
  | "login_required"
  | "upstream_forbidden"
  | "client_closed"
  | "too_many_sessions"
  | "too_many_tasks"
  | "unknown_task"
  | "task_failed"
  | "task_cancelled"
  | "task_lost"
  | "task_finished"
  | "upstream_unauthorized"
  | "upstream_forbidden"
  | "internal";

export interface ProxyErrorOptions {
  cause?: unknown;
  /** Extra fields merged into the `detail` object of the response body. */
  extra?: Record<string, unknown>;
}

export class ProxyError extends Error {
  override readonly name: string = "ProxyError";
  readonly extra: Record<string, unknown>;

  constructor(
    readonly code: ProxyErrorCode,
    readonly httpStatus: number,
    message: string,
    options: ProxyErrorOptions = {},
  ) {
    super(redactText(message), { cause: options.cause });
    this.extra = options.extra ?? {};
  }
}
