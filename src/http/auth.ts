import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createOidcVerifier, createOpenWebUiVerifier, isAllowed, setIdentity, type Identity } from "../auth/index.js";
import type { AllowList, HttpConfig, InboundAuthConfig } from "../config/schema.js";
import { ForbiddenError, ProxyError, UnauthorizedError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";

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

/** A server as auth sees it: its own key, if it has one, and its allow-list, if it has one. */
export interface AuthTarget {
  readonly name?: string;
  readonly apiKey: string | undefined;
  readonly allow?: AllowList;
}

/** The error to answer with, or undefined when allowed; a promise of either when a JWT has to be verified. */
export type AuthDecision = ProxyError | undefined | Promise<ProxyError | undefined>;

/**
 * Who may do what, decided in one place for every route: a tool call needs the key of its server (its own, else
 * --api-key); any other route needs it only with --strict-auth (the proxy's own routes, and those of no server,
 * need --api-key). With JWT verification on (`http.auth`), a verified JWT is accepted wherever a key is, and a
 * tool call on a server with an allow-list needs one whose identity is on it (see createJwtAuthorize). Returns
 * the error to answer with, or undefined when allowed; synchronously whenever no JWT needs verifying.
 */
export type Authorize = (req: IncomingMessage, target: AuthTarget | undefined, toolCall: boolean) => AuthDecision;

export interface AuthorizeOptions {
  /** For the verified subject, at debug only. */
  readonly logger?: Logger;
  /** The verifiers' clock (tests). */
  readonly now?: () => Date;
}

/** Keys only: the decision is always synchronous. */
export type KeyAuthorize = (
  req: IncomingMessage,
  target: AuthTarget | undefined,
  toolCall: boolean,
) => ProxyError | undefined;

export function createAuthorize(
  http: Pick<HttpConfig, "apiKey" | "strictAuth"> & { readonly auth?: undefined },
  options?: AuthorizeOptions,
): KeyAuthorize;
export function createAuthorize(
  http: Pick<HttpConfig, "apiKey" | "strictAuth" | "auth">,
  options?: AuthorizeOptions,
): Authorize;
export function createAuthorize(
  http: Pick<HttpConfig, "apiKey" | "strictAuth" | "auth">,
  options: AuthorizeOptions = {},
): Authorize {
  // Without a JWT setting, the key check alone, exactly as it always was: no extra work per request.
  if (http.auth) return createJwtAuthorize(http, http.auth, options);
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

/** Three base64url segments (the last empty for `alg: none`, which is then refused by the verifier). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * Keys and JWTs together. Credentials, each checked when sent:
 * - `Authorization: Bearer <value>`: the server's key (else --api-key), compared in constant time; else, with
 *   OIDC on and a value shaped like a JWT, an OIDC token; else, when a key is set, a wrong key (403, as before).
 *   With neither a key nor OIDC for this route, the header is no credential here and is ignored. A server with
 *   its own `api_key` takes only that key: turning JWTs on must not open a server someone gave a key of its own.
 * - Open WebUI's user header (`X-OpenWebUI-User-Jwt`), with a shared secret set: its HS256 token.
 * Any credential that is sent must hold (a bad one is never skipped for a good one beside it); one that holds is
 * enough to be authenticated. The identity is the Open WebUI user's when that header is sent (Open WebUI sends
 * its key as the bearer and the user in the header), else the OIDC token's; a key alone gives none.
 * Allow-lists apply to tool calls only, and need an identity: a key alone does not pass them. Why: the key is
 * shared (Open WebUI and every script hold the same one), so a server listed for some people would be open to
 * anyone holding it; a script that must call such a server gets a token of its own from the provider.
 */
function createJwtAuthorize(
  http: Pick<HttpConfig, "apiKey" | "strictAuth">,
  auth: InboundAuthConfig,
  options: AuthorizeOptions,
): Authorize {
  const verifyOptions = {
    clockSkewSeconds: auth.clockSkewSeconds,
    ...(options.now ? { now: options.now } : {}),
  };
  const userHeader = auth.openWebUi?.header.toLowerCase();
  const userVerifier =
    auth.openWebUi && createOpenWebUiVerifier(auth.openWebUi.secret, auth.openWebUi.header, verifyOptions);
  const bearerVerifier =
    auth.oidc && createOidcVerifier(auth.oidc, { ...verifyOptions, fetchTimeoutMs: auth.fetchTimeoutMs });
  const digests = new Map<string, Buffer>();
  const digestOf = (key: string): Buffer => {
    let value = digests.get(key);
    if (!value) digests.set(key, (value = digest(key)));
    return value;
  };

  return (req, target, toolCall) => {
    if (!toolCall && !http.strictAuth) return undefined;
    const ownKey = target?.apiKey;
    const key = ownKey ?? http.apiKey;
    const bearer = bearerOf(req.headers.authorization);
    const userToken = userHeader === undefined ? undefined : headerValue(req.headers[userHeader]);
    let keyed = false;
    let bearerToken: Promise<Identity> | undefined;
    if (bearer !== undefined) {
      if (key !== undefined && timingSafeEqual(digest(bearer), digestOf(key))) keyed = true;
      else if (ownKey === undefined && bearerVerifier && JWT_SHAPE.test(bearer)) bearerToken = bearerVerifier(bearer);
      else if (key !== undefined) return new ForbiddenError();
      else if (bearerVerifier) return new UnauthorizedError("Invalid bearer token: not a JWT", "invalid");
    }
    // A server with its own key wants that key (that is what giving it one meant); a JWT only names the user there.
    if (ownKey !== undefined && !keyed) return new UnauthorizedError();
    const userIdentity = userToken !== undefined && userVerifier ? userVerifier(userToken) : undefined;
    if (!keyed && !bearerToken && !userIdentity) return new UnauthorizedError(missingMessage(key, auth));
    const allow = toolCall ? target?.allow : undefined;
    const decide = (identity: Identity | undefined): ProxyError | undefined => {
      if (identity) {
        setIdentity(req, identity);
        options.logger?.debug({ sub: identity.subject, via: identity.source }, "caller verified");
      }
      if (!allow) return undefined;
      const server = target?.name ? `server "${target.name}"` : "this server";
      if (!identity) {
        return new ForbiddenError(
          `Only listed users may call ${server}: send a user token (${tokenKinds(auth)}); an API key alone names nobody`,
        );
      }
      return isAllowed(identity, allow)
        ? undefined
        : new ForbiddenError(`The caller is not on the allow-list of ${server}`);
    };
    if (!bearerToken && !userIdentity) return decide(undefined);
    // Both are awaited so that neither rejection goes unhandled; the Open WebUI user is the identity when sent.
    return Promise.all([bearerToken, userIdentity]).then(
      ([fromBearer, fromUser]) => decide(fromUser ?? fromBearer),
      (error: unknown) => toProxyError(error),
    );
  };
}

function missingMessage(key: string | undefined, auth: InboundAuthConfig): string {
  const bearer = [key !== undefined ? "api key" : "", auth.oidc ? "OIDC token" : ""].filter(Boolean).join(" or ");
  const ways = [bearer ? `'Authorization: Bearer <${bearer}>'` : "", auth.openWebUi ? auth.openWebUi.header : ""];
  return `Missing credentials: send ${ways.filter(Boolean).join(" or ")}`;
}

function tokenKinds(auth: InboundAuthConfig): string {
  return [auth.openWebUi?.header, auth.oidc ? "an OIDC bearer token" : undefined].filter(Boolean).join(" or ");
}

function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(",") : value;
  return text === undefined || text.trim() === "" ? undefined : text.trim();
}

function toProxyError(error: unknown): ProxyError {
  return error instanceof ProxyError ? error : new UnauthorizedError("Invalid token", "invalid");
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
