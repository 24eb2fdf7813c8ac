import { randomUUID } from "node:crypto";

/** The header a request id comes in and goes back out in (lower case, as Node gives headers). */
export const REQUEST_ID_HEADER = "x-request-id";

/** What a caller's id may be: short, and nothing a log line or a header could be broken with. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether a caller's `X-Request-Id` is kept as it is (else a new one replaces it). */
export function isValidRequestId(value: string): boolean {
  return VALID_REQUEST_ID.test(value);
}

/**
 * The id of a request: the caller's `X-Request-Id` when valid (so a gateway's id follows the request through),
 * else a new random UUID. A header sent twice (Node joins the values with ", ") is not valid.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === "string" && isValidRequestId(header) ? header : randomUUID();
}
