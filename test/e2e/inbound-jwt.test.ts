import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { EVERYTHING_ENTRY, EVERYTHING_STDIO } from "../helpers/everything.js";
import { configFile } from "../helpers/config-file.js";
import { AUDIENCE, signHs256, startIdp, unsignedToken, type Idp } from "../helpers/idp.js";
import { stopAll } from "../helpers/processes.js";
import { CLI, startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const KEY = "gateway-key-held-by-open-webui";
const SECRET = "webui-secret-key-shared-with-mcpo";
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
const owui = (token: string) => ({ "X-OpenWebUI-User-Jwt": token });
const everything = { command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] };
const now = () => Math.floor(Date.now() / 1000);

describe("inbound JWTs through the CLI: Open WebUI's user header, OIDC tokens, per-server allow-lists", () => {
  let idp: Idp;
  let proxy: Proxy;
  const tokens: string[] = [];
  /** A token that is remembered, to check later that none reached the log. */
  const remember = async (made: Promise<string> | string): Promise<string> => {
    const token = await made;
    tokens.push(token);
    return token;
  };

  before(async () => {
    idp = await startIdp();
    const config = configFile({
      // No oidc_jwks_url: the JWKS is found through the issuer's openid-configuration.
      auth: { jwt_secret: SECRET, oidc_issuer: idp.issuer, oidc_audience: AUDIENCE, jwks_timeout: 2 },
      mcpServers: {
        open: everything,
        hr: { ...everything, allow: { users: ["ada@example.com"], roles: ["hr"], groups: ["people-ops"] } },
      },
    });
    proxy = await startProxy(["--config", config.path, "--api-key", KEY, "--log-level", "debug"], []);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await idp?.close();
    await stopAll();
  });

  it("calls a tool with a good OIDC bearer token (200)", async () => {
    const { status, body } = await proxy.post("/open/echo", { message: "hi" }, bearer(await remember(idp.sign())));
    assert.equal(status, 200);
    assert.equal(body, "Echo: hi");
  });

  it("answers 401 with WWW-Authenticate: Bearer and reason missing without a credential", async () => {
    const { status, headers, body } = await proxy.post("/open/echo", { message: "x" });
    assert.equal(status, 401);
    assert.equal(headers.get("www-authenticate"), "Bearer");
    assert.equal((body as Json).detail.code, "unauthorized");
    assert.equal((body as Json).detail.reason, "missing");
  });

  it("answers 401 invalid_token, saying which check failed and never echoing the token", async () => {
    const cases: [string, Promise<string> | string, string, RegExp][] = [
      ["expired", idp.sign({ exp: now() - 120 }), "expired", /Expired bearer token/],
      ["not yet valid", idp.sign({ nbf: now() + 600 }), "invalid", /not valid yet/],
      ["wrong issuer", idp.sign({ iss: "https://evil.example" }), "invalid", /another issuer/],
      ["wrong audience", idp.sign({ aud: "someone-else" }), "invalid", /another audience/],
      ["wrong signature", idp.sign({}, { key: "other" }), "invalid", /signature does not verify/],
      ["unknown kid", idp.sign({}, { kid: "rotated-away" }), "invalid", /does not publish \(kid\)/],
      [
        "alg none",
        unsignedToken({ iss: idp.issuer, aud: AUDIENCE, sub: "x", exp: now() + 60 }),
        "invalid",
        /algorithm/,
      ],
      [
        "HS256 on the JWKS path (key confusion)",
        signHs256(JSON.stringify(idp.publicJwk), { iss: idp.issuer, aud: AUDIENCE }),
        "invalid",
        /algorithm not accepted/,
      ],
    ];
    for (const [what, made, reason, message] of cases) {
      const token = await remember(made);
      const { status, headers, body, text } = await proxy.post("/open/echo", { message: "x" }, bearer(token));
      assert.equal(status, 401, what);
      assert.equal(headers.get("www-authenticate"), 'Bearer error="invalid_token"', what);
      assert.equal((body as Json).detail.reason, reason, what);
      assert.match((body as Json).detail.message, message, what);
      assert.ok(!text.includes(token), what);
    }
  });

  it("takes Open WebUI's pair: the key authenticates the client, the user JWT names the user for the allow-list", async () => {
    const ada = await remember(signHs256(SECRET, { sub: "u-ada", email: "ada@example.com", name: "Ada Lovelace" }));
    const bob = await remember(signHs256(SECRET, { sub: "u-bob", email: "bob@example.com", role: "user" }));
    const allowed = await proxy.post("/hr/echo", { message: "payroll" }, { ...bearer(KEY), ...owui(ada) });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body, "Echo: payroll");
    const denied = await proxy.post("/hr/echo", { message: "payroll" }, { ...bearer(KEY), ...owui(bob) });
    assert.equal(denied.status, 403);
    assert.equal((denied.body as Json).detail.code, "forbidden");
    assert.match((denied.body as Json).detail.message, /not on the allow-list of server "hr"/);
    // Bob may use a server without an allow-list.
    assert.equal((await proxy.post("/open/echo", { message: "x" }, { ...bearer(KEY), ...owui(bob) })).status, 200);
  });

  it("refuses Open WebUI's pair when the user JWT is forged or expired, whatever the key (401)", async () => {
    for (const token of [
      await remember(signHs256("not-the-secret", { email: "ada@example.com" })),
      await remember(signHs256(SECRET, { email: "ada@example.com", exp: now() - 120 })),
    ]) {
      const { status } = await proxy.post("/hr/echo", { message: "x" }, { ...bearer(KEY), ...owui(token) });
      assert.equal(status, 401);
    }
  });

  it("does not let the key alone through an allow-list (403), but into a server without one (200)", async () => {
    const denied = await proxy.post("/hr/echo", { message: "x" }, bearer(KEY));
    assert.equal(denied.status, 403);
    assert.match((denied.body as Json).detail.message, /an API key alone names nobody/);
    assert.equal((await proxy.post("/open/echo", { message: "x" }, bearer(KEY))).status, 200);
    assert.equal((await proxy.post("/open/echo", { message: "x" }, bearer("wrong-key"))).status, 403);
  });

  it("applies allow-lists to OIDC identities by role and group, per server", async () => {
    const hr = await remember(idp.sign({ sub: "u-hr", realm_access: { roles: ["hr"] } }));
    const ops = await remember(idp.sign({ sub: "u-ops", groups: ["people-ops"] }));
    const dev = await remember(idp.sign({ sub: "u-dev", roles: ["dev"], groups: ["eng"] }));
    assert.equal((await proxy.post("/hr/echo", { message: "x" }, bearer(hr))).status, 200);
    assert.equal((await proxy.post("/hr/echo", { message: "x" }, bearer(ops))).status, 200);
    assert.equal((await proxy.post("/hr/echo", { message: "x" }, bearer(dev))).status, 403);
    assert.equal((await proxy.post("/open/echo", { message: "x" }, bearer(dev))).status, 200);
  });

  it("leaves the documents open without --strict-auth, as before", async () => {
    assert.equal((await proxy.get("/hr/openapi.json")).status, 200);
  });

  it("logs the subject at debug, and never a token or another claim", async () => {
    await proxy.waitForLog("a verified caller", (line) => line.msg === "caller verified" && line.sub === "u-ada");
    const log = proxy.process.stderr();
    for (const token of tokens) assert.ok(!log.includes(token), "a token reached the log");
    for (const claim of ["ada@example.com", "Ada Lovelace", "bob@example.com", SECRET, KEY]) {
      assert.ok(!log.includes(claim), `${claim} reached the log`);
    }
  });
});

describe("inbound JWTs when the identity provider is down", () => {
  let idp: Idp;
  let proxy: Proxy;
  before(async () => {
    idp = await startIdp("/realms/down");
    proxy = await startProxy(
      ["--oidc-issuer", idp.issuer, "--oidc-audience", AUDIENCE, "--jwks-timeout", "0.5", "--strict-auth"],
      EVERYTHING_STDIO,
    );
  });
  after(async () => {
    await proxy?.stop();
    await idp?.close();
    await stopAll();
  });

  it("answers 503 auth_unavailable with Retry-After, within the fetch bound, and lets nobody in", async () => {
    idp.fault = "hang";
    const token = await idp.sign();
    const started = Date.now();
    const { status, headers, body } = await proxy.post("/echo", { message: "x" }, bearer(token));
    assert.equal(status, 503);
    assert.equal((body as Json).detail.code, "auth_unavailable");
    assert.equal(headers.get("retry-after"), "5");
    assert.ok(Date.now() - started < 5000, "the request waited past the fetch bound");
  });

  it("with --strict-auth and no key, wants a token on /health too", async () => {
    assert.equal((await proxy.get("/health")).status, 401);
  });

  it("does not ask a provider that just failed again on every call, and lets the token in once it answers", async () => {
    idp.fault = "none";
    const token = await idp.sign();
    const asked = idp.fetches.discovery;
    // A failed discovery is remembered for a few seconds (the Retry-After): calls meanwhile get 503 at once.
    const answer = await waitFor(
      "the provider to be asked again",
      async () => {
        const reply = await proxy.post("/echo", { message: "back" }, bearer(token));
        if (reply.status === 503) assert.equal(idp.fetches.discovery, asked);
        return reply.status === 503 ? undefined : reply;
      },
      10_000,
      250,
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "Echo: back");
    assert.equal(idp.fetches.discovery, asked + 1);
  });
});

describe("inbound JWT flags on the command line", () => {
  it("lists them in --help, and stops with a usage error naming the flag when they cannot work", () => {
    const help = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" }).stdout;
    for (const flag of [
      "--jwt-secret-file",
      "--oidc-issuer",
      "--oidc-audience",
      "--oidc-jwks-url",
      "--jwt-clock-skew",
    ]) {
      assert.ok(help.includes(flag), flag);
    }
    // One spawn per case is slow: the other refusals are unit tests (test/unit/auth/config.test.ts).
    const cases: [string[], RegExp][] = [[["--oidc-issuer", "https://id.example.com"], /--oidc-audience/]];
    for (const [flags, message] of cases) {
      const run = spawnSync(process.execPath, [CLI, ...flags, "--", "node"], { encoding: "utf8", timeout: 10_000 });
      assert.notEqual(run.status, 0, flags.join(" "));
      assert.match(run.stderr, message);
    }
  });
});
