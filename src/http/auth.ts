import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { ForbiddenError, UnauthorizedError } from "../errors/index.js";

export interface AuthOptions {
  /** The key callers must send as `Authorization: Bearer <key>`. */
  apiKey: string;
}

/**
 * Bearer-key check: 401 when no key is sent, 403 when it is wrong. Keys are
 * compared as SHA-256 digests with timingSafeEqual, so neither the content
 * nor the length of the key leaks through timing.
 */
export function createAuth(options: AuthOptions): RequestHandler {
  const expected = digest(options.apiKey);
  return function requireApiKey(req, _res, next) {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) return next(new UnauthorizedError());
    if (!timingSafeEqual(digest(match[1]), expected)) return next(new ForbiddenError());
    next();
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
