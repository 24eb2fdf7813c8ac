import {
  discoverOAuthProtectedResourceMetadata,
  IssuerMismatchError,
  type FetchLike,
} from "@modelcontextprotocol/client";

/**
 * The one issuer mismatch we tolerate: a 2025-03-26 server without protected resource metadata (so its own origin
 * is the authorization server, by that revision's fallback) whose authorization server metadata, served from
 * that origin, names an issuer on the same origin with a path (e.g. `<origin>/oauth`). The SDK checks the
 * issuer against the URL the metadata was fetched for (RFC 8414 §3.3) and refuses; the check guards against
 * metadata that points at another server, which a same-origin issuer cannot do. Every other mismatch (a server
 * with resource metadata, another origin) stays refused.
 */
export async function isLegacySameOriginIssuer(
  error: unknown,
  serverUrl: string,
  fetchFn: FetchLike,
): Promise<boolean> {
  const mismatch = findMismatch(error);
  if (!mismatch || mismatch.kind !== "metadata" || !mismatch.expected || !mismatch.received) return false;
  const origin = new URL(serverUrl).origin;
  if (mismatch.expected.replace(/\/$/, "") !== origin) return false; // not the fallback's synthesized issuer
  let received: URL;
  try {
    received = new URL(mismatch.received);
  } catch {
    return false;
  }
  if (received.origin !== origin) return false;
  try {
    await discoverOAuthProtectedResourceMetadata(serverUrl, undefined, fetchFn);
    return false; // the server has resource metadata: no fallback, no tolerance
  } catch {
    return true;
  }
}

function findMismatch(error: unknown): IssuerMismatchError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof IssuerMismatchError) return current;
  }
  return undefined;
}
