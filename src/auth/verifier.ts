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
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        ...checks,
        clockTolerance: clockSkewSeconds,
        requiredClaims: ["exp"],
        ...(now ? { currentDate: now() } : {}),
      });
      const identity = identityFromClaims(payload, source);
      if (!identity) throw new UnauthorizedError(`Invalid ${what}: it names no subject (sub)`, "invalid");
      return identity;
    } catch (error) {
      throw refusal(error, what);
    }
  };
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
