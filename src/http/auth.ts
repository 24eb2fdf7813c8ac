import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
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

/** The same check as express middleware (docs, spec, health). */
export function createAuth(apiKey: string | undefined): RequestHandler {
  const check = bearerCheck(apiKey);
  return function requireApiKey(req, _res, next) {
    next(check(req));
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
