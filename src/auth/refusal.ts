import { errors } from "jose";
import { AuthUnavailableError, UnauthorizedError, type ProxyError } from "../errors/index.js";

/** Seconds a caller is told to wait when the identity provider did not answer. */
export const AUTH_RETRY_AFTER_SECONDS = 5;

/** The identity provider could not be asked (discovery or JWKS fetch failed): never the token's fault. */
export class KeySourceError extends Error {
  override readonly name = "KeySourceError";
}

/**
 * A failed verification as the answer to send: 401 with the check that failed (`what` names the credential, e.g.
 * "the bearer token"), or 503 when the keys could not be fetched. jose's messages are not passed on: they are
 * ours to word, and none of them, nor ours, quotes the token or its claims.
 */
export function refusal(error: unknown, what: string): ProxyError {
  if (error instanceof KeySourceError) {
    return new AuthUnavailableError(
      `Cannot check ${what} now: ${error.message}; try again shortly`,
      AUTH_RETRY_AFTER_SECONDS,
      { cause: error.cause },
    );
  }
  if (error instanceof UnauthorizedError) return error;
  const invalid = (why: string) => new UnauthorizedError(`Invalid ${what}: ${why}`, "invalid");
  if (error instanceof errors.JWTExpired)
    return new UnauthorizedError(`Expired ${what}: its exp has passed`, "expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return invalid("not valid yet (nbf is in the future)");
      case "iat":
        return invalid("the iat claim is not a date");
      case "iss":
        return invalid("issued by another issuer (iss)");
      case "aud":
        return invalid("issued for another audience (aud)");
      default:
        return invalid(`the ${error.claim} claim is missing or wrong`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("signed with an algorithm not accepted here (alg)");
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("the signature does not verify");
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid("signed with a key the issuer does not publish (kid)");
  }
  return invalid("not a well-formed signed JWT");
}
