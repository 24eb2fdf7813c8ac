import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { HttpConfig } from "../config/schema.js";
import { ForbiddenError, UnauthorizedError, type ProxyError } from "../errors/index.js";

/** Checks `Authorization: Bearer <key>`; returns the error to answer with, or undefined when allowed. */
export type BearerCheck = (req: IncomingMessage) => ProxyError | undefined;

/**
 * Bearer-key check: 401 when no key is sent, 403 when it is wrong. Keys are
 * compared as SHA-256 digests with timingSafeEqual, so neither the content
 * nor the length of the key leaks through timing. No key: everything passes.
 */
export function bearerCheck(apiKey: string | undefined): BearerCheck {
  if (apiKey === undefined) return () => undefined;
  const expected = digest(apiKey);
  return (req) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) return new UnauthorizedError();
    if (!timingSafeEqual(digest(match[1]), expected)) return new ForbiddenError();
    return undefined;
  };
}

/** A server as auth sees it: its own key, if it has one. */
export interface AuthTarget {
  readonly apiKey: string | undefined;
}

/**
 * Who may do what, decided in one place for every route: a tool call needs the key of its server (its own, else
 * --api-key); any other route needs it only with --strict-auth (the proxy's own routes, and those of no server,
 * need --api-key). Returns the error to answer with, or undefined when allowed.
 */
export type Authorize = (
  req: IncomingMessage,
  target: AuthTarget | undefined,
  toolCall: boolean,
) => ProxyError | undefined;

export function createAuthorize(http: Pick<HttpConfig, "apiKey" | "strictAuth">): Authorize {
  const global = bearerCheck(http.apiKey);
  // One compiled check per server, made on its first request (servers come and go with hot reload).
  const perServer = new WeakMap<AuthTarget, BearerCheck>();
  const checkFor = (target: AuthTarget): BearerCheck => {
    if (target.apiKey === undefined) return global;
    let check = perServer.get(target);
    if (!check) perServer.set(target, (check = bearerCheck(target.apiKey)));
    return check;
  };
  return (req, target, toolCall) => {
    if (!toolCall && !http.strictAuth) return undefined;
    return (target ? checkFor(target) : global)(req);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
