import { jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import { UnauthorizedError } from "../errors/index.js";
import { identityFromClaims, type Identity } from "./identity.js";
import { refusal } from "./refusal.js";

/** Checks one token; resolves to who it names, or rejects with the ProxyError to answer (401, or 503). */
export type TokenVerifier = (token: string) => Promise<Identity>;

export interface VerifyOptions {
  /** Leeway on `exp` and `nbf`, in seconds. */
  readonly clockSkewSeconds: number;
  /** The verifier's clock; tests set it, the proxy uses the system's. */
  readonly now?: () => Date;
}

/**
 * A verifier over one key source with the checks every JWT gets: an algorithm allow-list (so `none`, and any
 * algorithm the key source is not meant for, are refused before a key is looked up), a required `exp`, the skew,
 * a subject. `what` names the credential in messages ("the bearer token").
 */
export function createVerifier(
  key: Uint8Array | JWTVerifyGetKey,
  checks: Pick<JWTVerifyOptions, "algorithms" | "issuer" | "audience">,
  options: VerifyOptions & { source: Identity["source"]; what: string },
): TokenVerifier {
  const { clockSkewSeconds, now, source, what } = options;
  const verified = new VerifiedTokens();
  return async (token) => {
    const nowMs = now ? now().getTime() : Date.now();
    const known = verified.get(token, nowMs);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        ...checks,
        clockTolerance: clockSkewSeconds,
        requiredClaims: ["exp"],
        ...(now ? { currentDate: now() } : {}),
      });
      const identity = identityFromClaims(payload, source);
      if (!identity) throw new UnauthorizedError(`Invalid ${what}: it names no subject (sub)`, "invalid");
      verified.add(token, identity, Math.min((payload.exp! + clockSkewSeconds) * 1000, nowMs + VERIFIED_TTL_MS));
      return identity;
    } catch (error) {
      throw refusal(error, what);
    }
  };
}

/** How long a verified token is taken on trust before its signature is checked again (never past its `exp`). */
const VERIFIED_TTL_MS = 60_000;
/** Verified tokens remembered at most (a bearer token is sent on every call of a session). */
const VERIFIED_MAX = 1024;

/**
 * Tokens verified lately, by their exact text: a caller's bearer token comes back on every call, and a signature
 * check costs 130-150 µs (jose, HS256 or RS256, on the 2-core bench machine) against about 330 µs for the whole
 * call. An entry lasts until the token's `exp` (with the skew), at most VERIFIED_TTL_MS; only successes are kept;
 * the oldest entry goes first when full.
 */
class VerifiedTokens {
  readonly #entries = new Map<string, { identity: Identity; untilMs: number }>();

  get(token: string, nowMs: number): Identity | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (nowMs < entry.untilMs) return entry.identity;
    this.#entries.delete(token);
    return undefined;
  }

  add(token: string, identity: Identity, untilMs: number): void {
    if (this.#entries.size >= VERIFIED_MAX) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, { identity, untilMs });
  }
}

/** Open WebUI's `X-OpenWebUI-User-Jwt`: HS256 only, signed with the secret shared with Open WebUI. */
export function createOpenWebUiVerifier(secret: string, header: string, options: VerifyOptions): TokenVerifier {
  return createVerifier(
    new TextEncoder().encode(secret),
    { algorithms: ["HS256"] },
    {
      ...options,
      source: "openwebui",
      what: `${header} token`,
    },
  );
}
