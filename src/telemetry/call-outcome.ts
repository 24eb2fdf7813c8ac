import { ProxyError } from "../errors/index.js";
import type { CallOutcome } from "./metrics.js";

/**
 * The outcome label of a tool call that failed, from the error it failed with: a caller's bad input (400, 422),
 * a timeout (504, and a slot never freed in the queue), an upstream that is not there (503, 502 for an
 * incompatible one), or any other error.
 */
export function outcomeOf(error: unknown): CallOutcome {
  if (!(error instanceof ProxyError)) return "error";
  const status = error.httpStatus;
  if (status === 400 || status === 422) return "bad_request";
  if (status === 504) return "timeout";
  if (status === 503 || error.code === "upstream_incompatible") return "unavailable";
  return "error";
}
