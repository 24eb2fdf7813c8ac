import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JWTVerifyGetKey } from "jose";
import { createVerifier } from "../../../src/auth/verifier.js";
import { ProxyError } from "../../../src/errors/index.js";
import { signHs256 } from "../../helpers/idp.js";

const SECRET = "a-secret-of-at-least-thirty-two-bytes!";

/** An HS256 key source that counts how often jose asks for the key: once per signature actually checked. */
function countingKey(): { key: JWTVerifyGetKey; checks: () => number } {
  let count = 0;
  const secret = new TextEncoder().encode(SECRET);
  return {
    key: () => {
      count += 1;
      return secret;
    },
    checks: () => count,
  };
}

function verifierAt(clock: { ms: number }, key: JWTVerifyGetKey) {
  return createVerifier(
    key,
    { algorithms: ["HS256"] },
    { clockSkewSeconds: 30, now: () => new Date(clock.ms), source: "oidc", what: "bearer token" },
  );
}

describe("verified tokens are remembered", () => {
  it("checks a token's signature once a minute, not on every call", async () => {
    const start = Date.now();
    const clock = { ms: start };
    const { key, checks } = countingKey();
    const verify = verifierAt(clock, key);
    const token = await signHs256(SECRET, { sub: "u-1", exp: Math.floor(start / 1000) + 3600 });
    for (let i = 0; i < 5; i++) assert.equal((await verify(token)).subject, "u-1");
    assert.equal(checks(), 1);
    clock.ms = start + 59_000;
    await verify(token);
    assert.equal(checks(), 1);
    clock.ms = start + 60_000;
    await verify(token);
    assert.equal(checks(), 2, "checked again after a minute");
  });

  it("never serves a remembered token past its exp (with the skew)", async () => {
    const start = Date.now();
    const clock = { ms: start };
    const { key, checks } = countingKey();
    const verify = verifierAt(clock, key);
    const exp = Math.floor(start / 1000) + 10;
    const token = await signHs256(SECRET, { sub: "u-2", exp });
    await verify(token);
    clock.ms = (exp + 30) * 1000; // exactly at exp + skew: expired
    const refusal = await verify(token).then(
      () => assert.fail("an expired token was accepted"),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof ProxyError);
    assert.equal(refusal.httpStatus, 401);
    assert.equal(refusal.extra.reason, "expired");
    assert.equal(checks(), 2);
  });

  it("does not remember a refusal", async () => {
    const { key, checks } = countingKey();
    const verify = verifierAt({ ms: Date.now() }, key);
    const forged = await signHs256("another-secret-of-thirty-two-bytes!!", { sub: "u-3" });
    for (let i = 0; i < 2; i++) await assert.rejects(verify(forged), ProxyError);
    assert.equal(checks(), 2);
  });
});
