import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createOidcVerifier } from "../../../src/auth/index.js";
import { JWKS_ALGORITHMS } from "../../../src/config/schema.js";
import { AUDIENCE, refused, signHs256, startIdp, unsignedToken, type Idp } from "../../helpers/idp.js";

/** The ProxyError a verification rejects with. */
describe("OIDC bearer tokens against a JWKS", () => {
  let idp: Idp;
  let verify: (token: string) => Promise<unknown>;
  const settings = (idp: Idp, extra: { jwksUrl?: string; skew?: number; now?: () => Date; timeoutMs?: number } = {}) =>
    createOidcVerifier(
      {
        issuer: idp.issuer,
        audience: [AUDIENCE],
        algorithms: [...JWKS_ALGORITHMS],
        ...(extra.jwksUrl ? { jwksUrl: extra.jwksUrl } : {}),
      },
      {
        clockSkewSeconds: extra.skew ?? 30,
        fetchTimeoutMs: extra.timeoutMs ?? 2000,
        ...(extra.now ? { now: extra.now } : {}),
      },
    );
  before(async () => {
    idp = await startIdp();
    verify = settings(idp);
  });
  after(() => idp.close());

  it("accepts a good token and reads who it names, finding the JWKS through discovery", async () => {
    const token = await idp.sign({
      email: "ada@example.com",
      name: "Ada",
      roles: ["tools"],
      realm_access: { roles: ["staff"] },
      groups: ["eng"],
    });
    assert.deepEqual(await verify(token), {
      subject: "user-1",
      email: "ada@example.com",
      name: "Ada",
      roles: ["tools", "staff"],
      groups: ["eng"],
      source: "oidc",
    });
    assert.equal(idp.fetches.discovery, 1);
  });

  it("fetches the JWKS once and keeps it for later tokens", async () => {
    const before = idp.fetches.jwks;
    for (let i = 0; i < 3; i++) await verify(await idp.sign({ sub: `user-${i}` }));
    assert.equal(idp.fetches.jwks, before);
    assert.equal(idp.fetches.discovery, 1);
  });

  const cases: [string, () => Promise<string>, string, string][] = [
    ["an expired token", () => idp.sign({ exp: now() - 120 }), "expired", "Expired bearer token: its exp has passed"],
    ["a token not valid yet", () => idp.sign({ nbf: now() + 120 }), "invalid", "not valid yet"],
    ["a token of another issuer", () => idp.sign({ iss: "https://evil.example" }), "invalid", "another issuer (iss)"],
    ["a token for another audience", () => idp.sign({ aud: "other-app" }), "invalid", "another audience (aud)"],
    ["a token without exp", () => idp.sign({ exp: undefined }), "invalid", "exp"],
    ["a token without a subject", () => idp.sign({ sub: undefined }), "invalid", "names no subject"],
    ["a wrong signature", () => idp.sign({}, { key: "other" }), "invalid", "the signature does not verify"],
    ["an unknown kid", () => idp.sign({}, { kid: "k9" }), "invalid", "a key the issuer does not publish (kid)"],
    [
      "alg none",
      async () => unsignedToken({ iss: idp.issuer, aud: AUDIENCE, sub: "x", exp: now() + 60 }),
      "invalid",
      "algorithm",
    ],
    [
      "an HS256 token keyed with the public key (key confusion)",
      () => signHs256(JSON.stringify(idp.publicJwk), { iss: idp.issuer, aud: AUDIENCE }),
      "invalid",
      "algorithm not accepted here (alg)",
    ],
    ["garbage", async () => "a.b.c", "invalid", "not a well-formed signed JWT"],
  ];
  for (const [what, make, reason, message] of cases) {
    it(`refuses ${what}: 401, reason ${reason}, saying why without the token`, async () => {
      const token = await make();
      const error = await refused(verify(token));
      assert.equal(error.httpStatus, 401);
      assert.equal(error.code, "unauthorized");
      assert.equal(error.extra.reason, reason);
      assert.ok(error.message.includes(message), error.message);
      assert.ok(!error.message.includes(token));
    });
  }

  it("honours the clock skew on exp and nbf, both ways", async () => {
    const token = await idp.sign({ exp: now() + 60, nbf: now() });
    const at = (offsetSeconds: number) => () => new Date(Date.now() + offsetSeconds * 1000);
    // 20 s past exp: inside a 30 s skew, outside a 10 s one.
    assert.equal(((await settings(idp, { now: at(80) })(token)) as { subject: string }).subject, "user-1");
    assert.equal((await refused(settings(idp, { skew: 10, now: at(80) })(token))).extra.reason, "expired");
    // 20 s before nbf.
    assert.equal(((await settings(idp, { now: at(-20) })(token)) as { subject: string }).subject, "user-1");
    assert.match((await refused(settings(idp, { skew: 10, now: at(-20) })(token))).message, /not valid yet/);
  });

  it("uses a configured JWKS URL without discovery", async () => {
    const direct = await startIdp("/other");
    try {
      const token = await direct.sign();
      assert.ok(await settings(direct, { jwksUrl: direct.jwksUrl })(token));
      assert.equal(direct.fetches.discovery, 0);
      assert.equal(direct.fetches.jwks, 1);
    } finally {
      await direct.close();
    }
  });

  it("answers 503 auth_unavailable, never a pass, when the JWKS errors, hangs (bounded) or is unreachable", async () => {
    const down = await startIdp("/down");
    try {
      const token = await down.sign();
      down.fault = "error";
      const failed = await refused(settings(down, { jwksUrl: down.jwksUrl })(token));
      assert.equal(failed.httpStatus, 503);
      assert.equal(failed.code, "auth_unavailable");
      down.fault = "hang";
      const started = Date.now();
      const hung = await refused(settings(down, { jwksUrl: down.jwksUrl, timeoutMs: 200 })(token));
      assert.equal(hung.code, "auth_unavailable");
      assert.match(hung.message, /did not answer within 200 ms/);
      assert.ok(Date.now() - started < 2000);
      const discovery = await refused(settings(down, { timeoutMs: 200 })(token));
      assert.equal(discovery.code, "auth_unavailable");
      assert.match(discovery.message, /openid-configuration did not answer/);
    } finally {
      await down.close();
    }
    const gone = await refused(settings(down, { jwksUrl: down.jwksUrl })(await down.sign()));
    assert.equal(gone.code, "auth_unavailable");
  });

  it("refuses a discovery document that names another issuer (503: its keys are not the issuer's)", async () => {
    const lying = await startIdp("/lying");
    try {
      lying.discoveryIssuer = "https://someone-else.example";
      const error = await refused(settings(lying)(await lying.sign()));
      assert.equal(error.code, "auth_unavailable");
      assert.match(error.message, /names another issuer/);
      assert.equal(lying.fetches.jwks, 0);
    } finally {
      await lying.close();
    }
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}
