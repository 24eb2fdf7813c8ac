import type { IncomingMessage } from "node:http";
import type { JWTPayload } from "jose";

/**
 * Who a caller is, as a verified JWT says: the small, typed view the rest of the proxy may use (allow-lists here;
 * templated forwarded headers later). Only `subject` is ever logged, and only at debug.
 */
export interface Identity {
  /** `sub`; for Open WebUI's token, its `id` when it has no `sub`. */
  readonly subject: string;
  readonly email?: string;
  readonly name?: string;
  /** `role` and `roles`, plus Keycloak's `realm_access.roles`. */
  readonly roles: readonly string[];
  /** `groups`. */
  readonly groups: readonly string[];
  /** Which verifier accepted the token. */
  readonly source: "openwebui" | "oidc";
}

/** The claims of a verified token as an Identity, or undefined when it names no subject. */
export function identityFromClaims(claims: JWTPayload, source: Identity["source"]): Identity | undefined {
  const subject = text(claims.sub) ?? (source === "openwebui" ? text(claims.id) : undefined);
  if (subject === undefined) return undefined;
  const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
  const roles = [...strings(claims.role), ...strings(claims.roles), ...strings(realmAccess?.roles)];
  const email = text(claims.email);
  const name = text(claims.name);
  return {
    subject,
    ...(email === undefined ? {} : { email }),
    ...(name === undefined ? {} : { name }),
    roles: [...new Set(roles)],
    groups: [...new Set(strings(claims.groups))],
    source,
  };
}

/** Identities of the requests being served: set once verified (src/http/auth.ts), gone with the request. */
const identities = new WeakMap<IncomingMessage, Identity>();

/** The verified identity of a request, or undefined (no JWT, or an API key only). */
export function identityOf(req: IncomingMessage): Identity | undefined {
  return identities.get(req);
}

export function setIdentity(req: IncomingMessage, identity: Identity): void {
  identities.set(req, identity);
}

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  // Open WebUI's ids are strings, but some issuers put numbers in `sub`-like claims.
  return typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
}

/** A claim that is a string or a list of strings, as a list (anything else counts as none). */
function strings(value: unknown): string[] {
  if (typeof value === "string") return value === "" ? [] : [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string" && item !== "") : [];
}
