/**
 * Upstream OAuth security (issue 11, item 5), end to end with the real CLI and
 * the fixture (see oauth.test.ts): no token or secret in logs at any level,
 * /health, error bodies or OpenAPI; PKCE S256 only; a loopback redirect and
 * listener; state and issuer checked; tokens bound to their resource; token
 * files 0600.
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startResourceServer } from "../fixtures/oauth/index.js";
import { configFile } from "../helpers/config-file.js";
import { approve, deliver, exitOf, logIn, printedUrl, startLogin, type LoginResult } from "../helpers/oauth-login.js";
import {
  assertLoginRequired,
  assertNoSecret,
  authorizeRequests,
  FAILING,
  fixture,
  healthy,
  loggedIn,
  newTokenDir,
  refusedLogin,
  setUp,
  stopOAuth,
  tokenRequests,
  track,
  until,
  type Json,
} from "../helpers/oauth-setup.js";
import { startProxy, type Answer } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

describe("upstream OAuth security (issue 11, item 5)", () => {
  after(stopOAuth);

  it("shows no token or secret in logs at trace level, /health, error bodies or the OpenAPI documents", async () => {
    const s = await setUp();
    const login = await s.login({}, ["--log-level", "trace"]);
    loggedIn(login);
    const proxy = await s.proxy(["--log-level", "trace"]);
    await healthy(proxy);
    const seen: string[] = [login.stdout, login.stderr];
    const keep = (answer: Answer): Answer => {
      seen.push(answer.text, JSON.stringify([...answer.headers]));
      return answer;
    };
    assert.equal(keep(await proxy.post("/notes/echo", { message: "x" })).status, 200);
    assert.equal(keep(await proxy.post("/notes/echo", { nope: 1 })).status, 422);
    s.fixture.as.revokeAccessTokens();
    assert.equal(keep(await proxy.post("/notes/echo", { message: "refreshed after a 401" })).status, 200);
    assert.equal(keep(await proxy.post("/notes/write-note", { text: "x" })).status, 503); // step-up wanted
    s.fixture.as.revokeAccessTokens();
    s.fixture.as.revokeRefreshTokens();
    assert.equal(keep(await proxy.post("/notes/echo", { message: "revoked" })).status, 503);
    for (const path of ["/health", "/notes/health", "/openapi.json", "/notes/openapi.json", "/notes/docs"]) {
      keep(await proxy.get(path));
    }
    await proxy.stop();
    seen.push(proxy.process.stderr(), proxy.process.stdout());
    assert.ok(proxy.logs().length >= 10, "the debug log was read");
    const secrets = s.fixture.as.secrets();
    assert.ok(secrets.length >= 6, `tokens, a code and a verifier were seen (${secrets.length})`);
    assertNoSecret(seen.join("\n"), secrets);
  });

  it("keeps token files 0600 in a 0700 directory", async () => {
    const s = await setUp();
    loggedIn(await s.login());
    const proxy = await s.proxy();
    await healthy(proxy);
    await proxy.stop();
    assert.equal(statSync(s.dir).mode & 0o777, 0o700);
    const files = readdirSync(s.dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    assert.ok(files.length >= 1, "a token file");
    for (const file of files) {
      const path = join(file.parentPath, file.name);
      assert.equal(statSync(path).mode & 0o777, 0o600, path);
    }
  });

  it("refuses an authorization server that offers no S256 (PKCE plain is never used)", async () => {
    const s = await setUp({ as: { codeChallengeMethods: ["plain"] } });
    const result = await s.login({}, FAILING);
    refusedLogin(result);
    assert.deepEqual(
      authorizeRequests(s.fixture).filter((r) => r.codeChallengeMethod !== "S256"),
      [],
      "an authorization request without S256",
    );
    assert.equal(tokenRequests(s.fixture, "authorization_code").length, 0);
  });

  it("listens for the redirect on 127.0.0.1 only", async (t) => {
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((one) => one && one.family === "IPv4" && !one.internal)?.address;
    if (!outside) return t.skip("no non-loopback IPv4 address here");
    const s = await setUp();
    const running = startLogin(["notes", "--config", s.config.path, "--token-dir", s.dir, "--timeout", "20"]);
    try {
      const url = await printedUrl(running);
      const port = new URL(url.searchParams.get("redirect_uri") ?? "").port;
      await assert.rejects(
        fetch(`http://${outside}:${port}/callback?code=x&state=y`, { signal: AbortSignal.timeout(3_000) }),
        "the callback listener answered on a non-loopback address",
      );
      await deliver(await approve(url));
      assert.equal(await exitOf(running), 0, `${running.stdout()}${running.stderr()}`);
    } finally {
      await running.stop("SIGKILL");
    }
  });

  it("refuses a redirect whose state does not match, exchanging no code", async () => {
    const s = await setUp();
    const result = await s.login({
      tamper: (callback) => {
        callback.searchParams.set("state", `forged-${callback.searchParams.get("state")}`);
        return callback;
      },
      exitTimeoutMs: 15_000,
    });
    refusedLogin(result);
    assert.match(`${result.stdout}${result.stderr}`, /state/i);
    assert.equal(tokenRequests(s.fixture, "authorization_code").length, 0);
    assert.ok((result.callback?.status ?? 0) >= 400, `the browser was told: ${result.callback?.status}`);
  });

  it("refuses a redirect from another issuer (RFC 9207), without repeating its error_description", async () => {
    const s = await setUp();
    s.fixture.as.settings.authorize = "wrong-iss";
    refusedLogin(await s.login({ exitTimeoutMs: 15_000 }, FAILING));
    assert.equal(tokenRequests(s.fixture, "authorization_code").length, 0, "a code from a mix-up was exchanged");

    const marker = `MARKER-${Date.now()}-injected-text`;
    s.fixture.as.settings.authorize = "deny-wrong-iss";
    s.fixture.as.settings.errorDescription = marker;
    const denied = await s.login({ exitTimeoutMs: 15_000 }, FAILING);
    refusedLogin(denied);
    assert.ok(!`${denied.stdout}${denied.stderr}`.includes(marker), "the mismatched issuer's text was printed");
  });

  it("reports an authorization refused by the user, with a clear message", async () => {
    const s = await setUp();
    s.fixture.as.settings.authorize = "deny";
    const result = await s.login({ exitTimeoutMs: 15_000 }, FAILING);
    refusedLogin(result);
    assert.match(`${result.stdout}${result.stderr}`, /access_denied|denied|said no/i);
  });

  it("binds tokens to their resource: a login to one server does not serve another on the same authorization server", async () => {
    const f = await fixture();
    const other = await startResourceServer({ authorizationServer: f.as });
    track(() => other.stop());
    const config = configFile({
      mcpServers: {
        notes: { type: "streamable-http", url: f.rs.url, oauth: { redirect_port: 0 } },
        other: { type: "streamable-http", url: other.url, oauth: { redirect_port: 0 } },
      },
    });
    const dir = newTokenDir();
    const login = (name: string): Promise<LoginResult> => logIn([name, "--config", config.path, "--token-dir", dir]);
    loggedIn(await login("notes"));
    const proxy = await startProxy(["--config", config.path, "--token-dir", dir], []);
    await waitFor("notes ready and other unauthorized", async () => {
      const servers = ((await proxy.get("/health")).body as Json).servers as Json;
      return servers.notes?.status === "healthy" && servers.other?.details?.state === "unauthorized";
    });
    assert.ok(
      other.requests.every((r) => r.status !== 200),
      "the other server accepted something",
    );
    assertLoginRequired(await proxy.post("/other/echo", { message: "x" }), `mcpo auth other --config ${config.path}`);

    const second = await login("other");
    loggedIn(second);
    assert.equal(second.authorizeUrl.searchParams.get("resource"), other.url);
    await healthy(proxy, 15_000);
    assert.equal((await until(proxy, "/other/echo", { message: "o" }, 200)).body, "echo: o");
    assert.equal((await proxy.post("/notes/echo", { message: "n" })).body, "echo: n");
    const exchanges = tokenRequests(f, "authorization_code").map((r) => r.resource);
    assert.deepEqual(exchanges, [f.rs.url, other.url]);
    await proxy.stop();
  });

  it("refuses protected resource metadata that names another resource (no token is asked for)", async () => {
    const s = await setUp({ rs: { advertisedResource: "http://127.0.0.1:1/elsewhere" } });
    const result = await s.login({ exitTimeoutMs: 15_000 }, FAILING);
    refusedLogin(result);
    assert.equal(authorizeRequests(s.fixture).length, 0);
    assert.equal(s.fixture.as.requests.filter((r) => r.endpoint === "token").length, 0);
  });
});
