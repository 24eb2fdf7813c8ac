import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { describe, it } from "node:test";
import { createOpenWebUiVerifier } from "../../../src/auth/index.js";
import { refused, signHs256, unsignedToken } from "../../helpers/idp.js";

const SECRET = "webui-secret-key-shared-with-the-gateway";
const HEADER = "X-OpenWebUI-User-Jwt";
const verify = createOpenWebUiVerifier(SECRET, HEADER, { clockSkewSeconds: 30 });

describe("Open WebUI's X-OpenWebUI-User-Jwt (HS256, shared secret)", () => {
  it("accepts a token signed with the secret and reads the user from it", async () => {
    const token = await signHs256(SECRET, { sub: "u-42", email: "ada@example.com", name: "Ada", role: "admin" });
    assert.deepEqual(await verify(token), {
      subject: "u-42",
      email: "ada@example.com",
      name: "Ada",
      roles: ["admin"],
      groups: [],
      source: "openwebui",
    });
  });

  it("takes Open WebUI's `id` as the subject when there is no `sub`", async () => {
    const token = await signHs256(SECRET, { sub: undefined, id: "u-7" });
    assert.equal((await verify(token)).subject, "u-7");
  });

  it("refuses another secret, an expired token, alg none and an RS256 token, naming the header", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT({ sub: "x", exp: now + 60 }).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    const cases: [string, string, RegExp][] = [
      [await signHs256("another-secret"), "invalid", /signature does not verify/],
      [await signHs256(SECRET, { exp: now - 120 }), "expired", /^Expired X-OpenWebUI-User-Jwt token/],
      [unsignedToken({ sub: "x", exp: now + 60 }), "invalid", /algorithm/],
      [rs256, "invalid", /algorithm not accepted/],
    ];
    for (const [token, reason, message] of cases) {
      const error = await refused(verify(token));
      assert.equal(error.httpStatus, 401);
      assert.equal(error.extra.reason, reason);
      assert.match(error.message, message);
      assert.ok(!error.message.includes(token));
    }
  });

  it("honours the clock skew", async () => {
    const token = await signHs256(SECRET, { exp: Math.floor(Date.now() / 1000) + 60 });
    const later = () => new Date(Date.now() + 80_000);
    assert.equal(
      (await createOpenWebUiVerifier(SECRET, HEADER, { clockSkewSeconds: 30, now: later })(token)).subject,
      "owui-user",
    );
    const error = await refused(createOpenWebUiVerifier(SECRET, HEADER, { clockSkewSeconds: 10, now: later })(token));
    assert.equal(error.extra.reason, "expired");
  });
});
