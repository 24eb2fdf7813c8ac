import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { ProxyError } from "../../src/errors/index.js";

/** How the fixture's endpoints misbehave, to test an identity provider that is down. */
export type IdpFault = "none" | "error" | "hang";

/**
 * A local OpenID provider over loopback: `{issuer}/.well-known/openid-configuration` naming `{issuer}/jwks`, and
 * the JWKS (one RS256 key, kid "k1"). It signs tokens with that key (or another, to test a bad signature or an
 * unknown kid) and counts the fetches, so caching can be checked.
 */
export interface Idp {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Fetches of the JWKS and of the discovery document so far. */
  readonly fetches: { jwks: number; discovery: number };
  fault: IdpFault;
  /** Issuer written in the discovery document (default: the real one). */
  discoveryIssuer: string | undefined;
  /** A token signed RS256 by the published key; `claims` are merged over sensible defaults. */
  sign(claims?: JWTPayload, options?: { key?: "published" | "other"; kid?: string }): Promise<string>;
  /** The published public key as a JWK (for the key-confusion test). */
  readonly publicJwk: JWK;
  close(): Promise<void>;
}

export const AUDIENCE = "mcpo-gateway";

/** RSA key generation is slow on a busy machine: one published and one other key per test process, shared. */
const keyPairs = Promise.all([generateKeyPair("RS256", { extractable: true }), generateKeyPair("RS256")]);

export async function startIdp(path = "/realms/team"): Promise<Idp> {
  const [published, other] = await keyPairs;
  const publicJwk: JWK = { ...(await exportJWK(published.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  const hanging: ServerResponse[] = [];
  const fetches = { jwks: 0, discovery: 0 };
  let issuer = "";
  const idp: Idp = {
    get issuer() {
      return issuer;
    },
    get jwksUrl() {
      return `${issuer}/jwks`;
    },
    fetches,
    fault: "none",
    discoveryIssuer: undefined,
    publicJwk,
    async sign(claims = {}, options = {}) {
      const key: CryptoKey = options.key === "other" ? other.privateKey : published.privateKey;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: AUDIENCE, sub: "user-1", iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "k1", typ: "JWT" })
        .sign(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    const discovery = url === `${path}/.well-known/openid-configuration`;
    const jwks = url === `${path}/jwks`;
    if (discovery) fetches.discovery += 1;
    if (jwks) fetches.jwks += 1;
    if ((discovery || jwks) && idp.fault === "hang") {
      hanging.push(res);
      return;
    }
    if ((discovery || jwks) && idp.fault === "error") {
      res.writeHead(500).end("down");
      return;
    }
    const body = discovery
      ? {
          issuer: idp.discoveryIssuer ?? issuer,
          jwks_uri: idp.jwksUrl,
          id_token_signing_alg_values_supported: ["RS256"],
        }
      : jwks
        ? { keys: [publicJwk] }
        : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return idp;
}

/** An HS256 token, as Open WebUI signs its user header (claims merged over sub, iat, and exp in 5 minutes). */
export function signHs256(secret: string | Uint8Array, claims: JWTPayload = {}): Promise<string> {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: "owui-user", iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(key);
}

/** An unsigned token (`alg: none`), which no verifier may accept. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

/** The ProxyError a verification is refused with; fails the test when the token is accepted. */
export async function refused(verification: Promise<unknown>): Promise<ProxyError> {
  try {
    await verification;
  } catch (error) {
    assert.ok(error instanceof ProxyError, String(error));
    return error;
  }
  return assert.fail("the token was accepted");
}
