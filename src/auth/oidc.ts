import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";
import type { InboundAuthConfig } from "../config/schema.js";
import { AUTH_RETRY_AFTER_SECONDS, KeySourceError } from "./refusal.js";
import { createVerifier, type TokenVerifier, type VerifyOptions } from "./verifier.js";

type OidcConfig = NonNullable<InboundAuthConfig["oidc"]>;

/**
 * OIDC bearer tokens against the issuer's JWKS: `iss` must be the issuer, `aud` one of the audiences, `alg` one of
 * the asymmetric algorithms allowed (never `none` or HS*: an HMAC "signed" with a public key is key confusion).
 * The JWKS URL is the configured one, else `jwks_uri` from the issuer's openid-configuration; both are fetched on
 * the first token, not at start (an identity provider that is down must not stop the proxy), each fetch bounded by
 * `fetchTimeoutMs`. jose's createRemoteJWKSet caches the keys and fetches them again for an unknown `kid` (key
 * rotation), at most once per cooldown.
 */
export function createOidcVerifier(
  oidc: OidcConfig,
  options: VerifyOptions & { readonly fetchTimeoutMs: number },
): TokenVerifier {
  const keys = lazyKeySet(oidc, options.fetchTimeoutMs);
  return createVerifier(
    keys,
    { algorithms: [...oidc.algorithms], issuer: oidc.issuer, audience: [...oidc.audience] },
    { ...options, source: "oidc", what: "bearer token" },
  );
}

/**
 * The key lookup for jwtVerify. A failure to reach the provider becomes a KeySourceError (answered 503); a JWKS
 * without the token's key stays jose's JWKSNoMatchingKey (answered 401). A failed discovery is remembered for a
 * few seconds so that a provider that is down is not asked again by every request.
 */
function lazyKeySet(oidc: OidcConfig, timeoutMs: number): JWTVerifyGetKey {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = 0;
  const resolve = (): Promise<JWTVerifyGetKey> => {
    if (keySet && failedAt !== 0 && Date.now() - failedAt > AUTH_RETRY_AFTER_SECONDS * 1000) keySet = undefined;
    if (!keySet) {
      failedAt = 0;
      const pending = (
        oidc.jwksUrl ? Promise.resolve(new URL(oidc.jwksUrl)) : discoverJwksUrl(oidc.issuer, timeoutMs)
      ).then((url) => createRemoteJWKSet(url, { timeoutDuration: timeoutMs }));
      pending.catch(() => {
        failedAt = Date.now();
      });
      keySet = pending;
    }
    return keySet;
  };
  return async (header, token) => {
    const getKey = await resolve();
    try {
      return await getKey(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      if (error instanceof errors.JOSENotSupported || error instanceof errors.JOSEAlgNotAllowed) throw error;
      throw new KeySourceError(
        error instanceof errors.JWKSTimeout
          ? `the issuer's JWKS did not answer within ${timeoutMs} ms`
          : "the issuer's JWKS could not be fetched",
        { cause: error },
      );
    }
  };
}

/** `jwks_uri` of `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 4). */
async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<URL> {
  const where = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(where, {
      headers: { accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    throw new KeySourceError(
      timedOut
        ? `the issuer's openid-configuration did not answer within ${timeoutMs} ms`
        : "the issuer's openid-configuration could not be fetched",
      { cause: error },
    );
  }
  // Section 4.3: the document must be the issuer's own, or its keys are not.
  if (document?.issuer !== issuer) {
    throw new KeySourceError("the issuer's openid-configuration names another issuer");
  }
  if (typeof document.jwks_uri !== "string" || !URL.canParse(document.jwks_uri)) {
    throw new KeySourceError("the issuer's openid-configuration has no usable jwks_uri");
  }
  return new URL(document.jwks_uri);
}
