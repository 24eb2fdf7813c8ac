import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { identityOf } from "../../../src/auth/index.js";
import { JWKS_ALGORITHMS, type InboundAuthConfig } from "../../../src/config/schema.js";
import { ProxyError } from "../../../src/errors/index.js";
import { createAuthorize, type AuthDecision } from "../../../src/http/auth.js";
import { AUDIENCE, signHs256, startIdp, type Idp } from "../../helpers/idp.js";

const SECRET = "owui-shared-secret";
const KEY = "static-key";

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
const user = (token: string) => ({ "x-openwebui-user-jwt": token });

async function outcome(decision: AuthDecision): Promise<string> {
  const result = await decision;
  if (result === undefined) return "allowed";
  assert.ok(result instanceof ProxyError);
  return `${result.httpStatus} ${result.code}`;
}

describe("createAuthorize with JWTs", () => {
  let idp: Idp;
  let auth: InboundAuthConfig;
  before(async () => {
    idp = await startIdp();
    auth = {
      openWebUi: { secret: SECRET, header: "X-OpenWebUI-User-Jwt" },
      oidc: { issuer: idp.issuer, audience: [AUDIENCE], jwksUrl: idp.jwksUrl, algorithms: [...JWKS_ALGORITHMS] },
      clockSkewSeconds: 30,
      fetchTimeoutMs: 2000,
    };
  });
  after(() => idp.close());

  const guarded = { name: "hr", apiKey: undefined, allow: { users: ["ada@example.com"], roles: ["hr"], groups: [] } };
  const open = { name: "wiki", apiKey: undefined };

  it("accepts the key alone, synchronously, as before (no JWT work on the key path)", () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const decision = authorize(request(bearer(KEY)), open, true);
    assert.equal(decision, undefined);
    assert.equal(authorize(request(bearer("wrong")), open, true)?.constructor.name, "ForbiddenError");
  });

  it("answers 401 missing without any credential, naming every way in", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const decision = (await authorize(request({}), open, true)) as ProxyError;
    assert.equal(decision.httpStatus, 401);
    assert.equal(decision.extra.reason, "missing");
    assert.match(decision.message, /Bearer <api key or OIDC token>.* or X-OpenWebUI-User-Jwt/);
  });

  it("takes Open WebUI's pair: the key authenticates, the user JWT names who is calling", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const req = request({ ...bearer(KEY), ...user(await signHs256(SECRET, { email: "ada@example.com" })) });
    assert.equal(await outcome(authorize(req, guarded, true)), "allowed");
    assert.equal(identityOf(req)?.email, "ada@example.com");
    const bob = request({ ...bearer(KEY), ...user(await signHs256(SECRET, { email: "bob@example.com" })) });
    assert.equal(await outcome(authorize(bob, guarded, true)), "403 forbidden");
    assert.equal(await outcome(authorize(bob, open, true)), "allowed");
  });

  it("never skips a bad credential for a good one beside it", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const good = await signHs256(SECRET);
    assert.equal(await outcome(authorize(request({ ...bearer("wrong"), ...user(good) }), open, true)), "403 forbidden");
    const forged = await signHs256("not-the-secret");
    assert.equal(
      await outcome(authorize(request({ ...bearer(KEY), ...user(forged) }), open, true)),
      "401 unauthorized",
    );
  });

  it("does not let a key alone through an allow-list: it names nobody", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const denied = (await authorize(request(bearer(KEY)), guarded, true)) as ProxyError;
    assert.equal(denied.httpStatus, 403);
    assert.match(denied.message, /Only listed users may call server "hr"/);
  });

  it("accepts an OIDC bearer token alone, and applies allow-lists by role", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const hr = request(bearer(await idp.sign({ roles: ["hr"] })));
    assert.equal(await outcome(authorize(hr, guarded, true)), "allowed");
    assert.equal(identityOf(hr)?.subject, "user-1");
    assert.equal(await outcome(authorize(request(bearer(await idp.sign())), guarded, true)), "403 forbidden");
    assert.equal(await outcome(authorize(request(bearer(await idp.sign({ exp: 1 }))), open, true)), "401 unauthorized");
  });

  it("ignores Authorization when neither a key nor OIDC is set; a user JWT alone authenticates", async () => {
    const authorize = createAuthorize({ strictAuth: false, auth: { ...auth, oidc: undefined } as InboundAuthConfig });
    const req = request({ ...bearer("whatever-open-webui-sends"), ...user(await signHs256(SECRET)) });
    assert.equal(await outcome(authorize(req, open, true)), "allowed");
    assert.equal(await outcome(authorize(request(bearer("whatever")), open, true)), "401 unauthorized");
  });

  it("on a server with its own key, wants that key; a JWT there only names the user", async () => {
    const authorize = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    const payroll = { name: "payroll", apiKey: "payroll-key", allow: { users: ["u-pay"], roles: [], groups: [] } };
    const oidc = (await authorize(request(bearer(await idp.sign({ sub: "u-pay" }))), payroll, true)) as ProxyError;
    assert.equal(`${oidc.httpStatus} ${oidc.code}`, "403 forbidden");
    assert.equal(
      await outcome(authorize(request(user(await signHs256(SECRET, { sub: "u-pay" }))), payroll, true)),
      "401 unauthorized",
    );
    const pair = request({ ...bearer("payroll-key"), ...user(await signHs256(SECRET, { sub: "u-pay" })) });
    assert.equal(await outcome(authorize(pair, payroll, true)), "allowed");
    assert.equal(await outcome(authorize(request(bearer("payroll-key")), payroll, true)), "403 forbidden");
  });

  it("with --strict-auth, wants a credential on other routes but applies no allow-list there", async () => {
    const loose = createAuthorize({ apiKey: KEY, strictAuth: false, auth });
    assert.equal(loose(request({}), guarded, false), undefined);
    const strict = createAuthorize({ apiKey: KEY, strictAuth: true, auth });
    assert.equal(await outcome(strict(request({}), guarded, false)), "401 unauthorized");
    assert.equal(await outcome(strict(request(bearer(KEY)), guarded, false)), "allowed");
    assert.equal(await outcome(strict(request(bearer(await idp.sign())), undefined, false)), "allowed");
  });
});
