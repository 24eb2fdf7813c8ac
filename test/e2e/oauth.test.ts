/**
 * Upstream OAuth end to end: the real CLI (`mcpo auth`, then the proxy with the
 * same token directory) against the fixture authorization server and protected
 * MCP server (test/fixtures/oauth). The test plays the browser: it reads the URL
 * `mcpo auth` prints, opens it without following redirects, and delivers the
 * redirect to the loopback listener (test/helpers/oauth-login.ts).
 *
 * Covers the authorization code flow (Streamable HTTP and SSE, config and
 * single-server mode), refresh (on expiry, after a 401, rotation kept across a
 * restart), step-up (and its limit), a revoked refresh token, a proxy started
 * before the login, and client credentials. The security rules of issue 11
 * item 5 are in oauth-security.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startResourceServer, type OAuthFixture } from "../fixtures/oauth/index.js";
import { configFile } from "../helpers/config-file.js";
import { logIn } from "../helpers/oauth-login.js";
import {
  assertLoginRequired,
  assertNoSecret,
  authorizeRequests,
  fixture,
  healthy,
  json,
  loggedIn,
  newTokenDir,
  serverHealth,
  setUp,
  shortLived,
  stopOAuth,
  tokenRequests,
  track,
  until,
  type Json,
} from "../helpers/oauth-setup.js";
import { freePort } from "../helpers/ports.js";
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

describe("upstream OAuth, end to end", () => {
  after(stopOAuth);

  describe("authorization code", () => {
    it("mcpo auth signs in (PKCE S256, loopback redirect, resource, the challenge's scope); the proxy calls tools with the stored tokens", async () => {
      const s = await setUp();
      const result = await s.login();
      loggedIn(result);
      const url = result.authorizeUrl;
      const q = url.searchParams;
      assert.equal(`${url.origin}${url.pathname}`, `${s.fixture.as.issuer}/authorize`);
      assert.equal(q.get("response_type"), "code");
      assert.equal(q.get("code_challenge_method"), "S256");
      assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
      assert.equal(q.get("resource"), s.fixture.rs.url);
      assert.equal(q.get("scope"), "notes:read", "the scope of the 401 challenge");
      assert.ok((q.get("state") ?? "").length >= 16, "an unguessable state");
      const redirect = new URL(q.get("redirect_uri") ?? "");
      assert.equal(redirect.protocol, "http:");
      assert.equal(redirect.hostname, "127.0.0.1");
      assert.equal(redirect.pathname, "/callback");
      assert.ok(result.callback && result.callback.status < 400, `callback answered ${result.callback?.status}`);
      const exchanges = tokenRequests(s.fixture, "authorization_code");
      assert.equal(exchanges.length, 1);
      assert.equal(exchanges[0]!.status, 200);
      assert.equal(exchanges[0]!.resource, s.fixture.rs.url);

      const proxy = await s.proxy();
      await healthy(proxy);
      const echo = await proxy.post("/notes/echo", { message: "hi" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(echo.body, "echo: hi");
      const whoami = await proxy.post("/notes/whoami", {});
      assert.equal(whoami.status, 200, whoami.text);
      assert.deepEqual(json(whoami), {
        client_id: exchanges[0]!.clientId,
        scopes: ["notes:read"],
      });
      assert.equal(tokenRequests(s.fixture, "authorization_code").length, 1, "the proxy logged in with nobody");
      await proxy.stop();
    });

    it("works in single-server mode from flags, on a fixed redirect port", async () => {
      const f = await fixture();
      const dir = newTokenDir();
      const port = await freePort();
      const target = ["--server-type", "streamable-http", "--", f.rs.url];
      const result = await logIn(["--oauth", "--oauth-redirect-port", String(port), "--token-dir", dir, ...target]);
      loggedIn(result);
      assert.equal(result.authorizeUrl.searchParams.get("redirect_uri"), `http://127.0.0.1:${port}/callback`);
      const registration = f.as.requests.find((r) => r.endpoint === "register");
      assert.deepEqual(registration?.redirectUris, [`http://127.0.0.1:${port}/callback`]);
      const proxy = await startProxy(["--oauth", "--token-dir", dir, "--server-type", "streamable-http"], [f.rs.url]);
      await healthy(proxy);
      const echo = await proxy.post("/echo", { message: "single" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(echo.body, "echo: single");
      await proxy.stop();
    });

    it("signs in to a legacy SSE server the same way", async () => {
      const f = await fixture();
      const sse = await startResourceServer({ authorizationServer: f.as, transport: "sse" });
      track(() => sse.stop());
      const config = configFile({ mcpServers: { legacy: { type: "sse", url: sse.url, oauth: { redirect_port: 0 } } } });
      const dir = newTokenDir();
      const result = await logIn(["legacy", "--config", config.path, "--token-dir", dir]);
      loggedIn(result);
      assert.equal(result.authorizeUrl.searchParams.get("resource"), sse.url);
      const proxy = await startProxy(["--config", config.path, "--token-dir", dir], []);
      await healthy(proxy);
      const echo = await proxy.post("/legacy/echo", { message: "sse" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(echo.body, "echo: sse");
      await proxy.stop();
    });

    it("a proxy started before any login waits in state unauthorized naming the command, answers 503 login_required, and picks the login up without a restart", async () => {
      const s = await setUp();
      const proxy = await s.proxy();
      const waiting = await waitFor("the server to be unauthorized", async () => {
        const health = await serverHealth(proxy);
        return health?.details?.state === "unauthorized" ? health : undefined;
      });
      assert.equal(waiting.status, "unhealthy");
      assert.ok(String(waiting.message).includes(s.command), `health names ${s.command}: ${waiting.message}`);
      assert.equal((await proxy.get("/health")).status, 503);
      assertLoginRequired(await proxy.post("/notes/echo", { message: "early" }), s.command);
      loggedIn(await s.login());
      await healthy(proxy, 15_000);
      const echo = await until(proxy, "/notes/echo", { message: "late" }, 200);
      assert.equal(echo.body, "echo: late");
      await proxy.stop();
    });
  });

  describe("refresh and expiry", () => {
    it("refreshes an expired access token with no human, and keeps each rotated refresh token (also across a restart)", async () => {
      const s = await setUp();
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      shortLived(s.fixture);
      for (const round of [1, 2, 3]) {
        if (round > 1) await sleep(1_100); // past the 1 s lifetime
        const echo = await proxy.post("/notes/echo", { message: `round ${round}` });
        assert.equal(echo.status, 200, `round ${round}: ${echo.text}`);
        assert.equal(echo.body, `echo: round ${round}`);
      }
      await proxy.stop();
      const refreshes = tokenRequests(s.fixture, "refresh_token");
      assert.ok(refreshes.length >= 2, `expected refreshes, saw ${refreshes.length}`);
      assert.deepEqual(
        refreshes.filter((r) => r.status !== 200).map((r) => r.error),
        [],
        "a refresh failed: a rotated refresh token was not kept",
      );
      assert.ok(refreshes.every((r) => r.resource === undefined || r.resource === s.fixture.rs.url));

      await sleep(1_100);
      const again = await s.proxy();
      await healthy(again);
      const echo = await again.post("/notes/echo", { message: "restarted" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(tokenRequests(s.fixture, "authorization_code").length, 1, "no second login was needed");
      assert.deepEqual(
        tokenRequests(s.fixture, "refresh_token")
          .filter((r) => r.status !== 200)
          .map((r) => r.error),
        [],
      );
      await again.stop();
    });

    it("refreshes after a 401 on an access token the server stopped accepting before its expiry", async () => {
      const s = await setUp();
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      assert.equal((await proxy.post("/notes/echo", { message: "before" })).status, 200);
      assert.ok(s.fixture.as.revokeAccessTokens() >= 1);
      const echo = await proxy.post("/notes/echo", { message: "after" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(echo.body, "echo: after");
      assert.ok(tokenRequests(s.fixture, "refresh_token").some((r) => r.status === 200));
      await proxy.stop();
    });

    it("copes with access tokens that live 1 s from the first login on (shorter than any refresh margin)", async () => {
      const s = await setUp({ as: { accessTokenLifetime: 1 } });
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      await sleep(1_100);
      const echo = await proxy.post("/notes/echo", { message: "short" });
      assert.equal(echo.status, 200, echo.text);
      await proxy.stop();
    });

    it("a revoked refresh token: state unauthorized naming the command, calls 503 login_required; a new login brings it back", async () => {
      const s = await setUp();
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      assert.equal((await proxy.post("/notes/echo", { message: "before" })).status, 200);
      // The access token is refused from now on, and so is the refresh token: no way on without a human.
      assert.ok(s.fixture.as.revokeRefreshTokens() >= 1);
      s.fixture.as.revokeAccessTokens();
      assertLoginRequired(await proxy.post("/notes/echo", { message: "revoked" }), s.command);
      assert.ok(tokenRequests(s.fixture, "refresh_token").some((r) => r.error === "invalid_grant"));
      const health = await waitFor("the server to be unauthorized", async () => {
        const answer = await proxy.get("/health");
        return ((answer.body as Json).servers.notes as Json).details.state === "unauthorized" ? answer : undefined;
      });
      assert.equal(health.status, 503);
      const notes = (health.body as Json).servers.notes as Json;
      assert.ok(String(notes.message).includes(s.command), `health names ${s.command}: ${notes.message}`);

      loggedIn(await s.login());
      const echo = await until(proxy, "/notes/echo", { message: "back" }, 200);
      assert.equal(echo.body, "echo: back");
      await healthy(proxy);
      await proxy.stop();
    });
  });

  describe("step-up", () => {
    it("a tool needing more scope gets 503 login_required naming the command; mcpo auth asks for the union; the call then works", async () => {
      const s = await setUp();
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      assertLoginRequired(await proxy.post("/notes/write-note", { text: "x" }), s.command);

      const second = await s.login();
      loggedIn(second);
      const asked = (second.authorizeUrl.searchParams.get("scope") ?? "").split(" ").sort();
      assert.deepEqual(asked, ["notes:read", "notes:write"], "the held and the wanted scope");
      const note = await until(proxy, "/notes/write-note", { text: "x" }, 200);
      assert.equal(note.body, "noted: x");
      const echo = await proxy.post("/notes/echo", { message: "still" });
      assert.equal(echo.status, 200, echo.text);
      await proxy.stop();
    });

    it("gives up a step-up the user never grants: past the limit the call gets 403 upstream_forbidden", async () => {
      const s = await setUp();
      s.fixture.as.settings.consent = ["notes:read"];
      loggedIn(await s.login());
      const proxy = await s.proxy();
      await healthy(proxy);
      let answer = await proxy.post("/notes/write-note", { text: "x" });
      let logins = 1;
      while (answer.status === 503 && logins < 6) {
        assertLoginRequired(answer, s.command);
        loggedIn(await s.login());
        logins += 1;
        await sleep(300);
        answer = await proxy.post("/notes/write-note", { text: "x" });
      }
      assert.equal(answer.status, 403, `after ${logins} logins: ${answer.text}`);
      assert.equal(((answer.body as Json).detail as Json).code, "upstream_forbidden");
      assert.ok(logins >= 2, "at least one step-up login was asked for");
      const echo = await proxy.post("/notes/echo", { message: "base scope" });
      assert.equal(echo.status, 200, echo.text);
      await proxy.stop();
    });
  });

  describe("client credentials", () => {
    const SECRET = "m2m-secret-0a1b2c3d4e5f6a7b8c9d";

    /**
     * A fixture that knows the confidential client `m2m` (authenticating with `method` only) and a proxy for it
     * at trace level: from the config file for client_secret_basic, from flags for client_secret_post.
     */
    async function machine(method: "client_secret_basic" | "client_secret_post"): Promise<{
      f: OAuthFixture;
      proxy: Proxy;
      prefix: string;
    }> {
      const f = await fixture({
        as: { clients: [{ client_id: "m2m", client_secret: SECRET, token_endpoint_auth_method: method }] },
      });
      const dir = mkdtempSync(join(tmpdir(), "mcpo-m2m-"));
      const secretFile = join(dir, "secret");
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      const tokens = join(dir, "tokens");
      if (method === "client_secret_basic") {
        const oauth = { grant: "client_credentials", client_id: "m2m", client_secret_file: secretFile };
        const config = configFile({
          mcpServers: {
            notes: { type: "streamable-http", url: f.rs.url, oauth: { ...oauth, token_endpoint_auth_method: method } },
          },
        });
        const proxy = await startProxy(["--config", config.path, "--token-dir", tokens, "--log-level", "trace"], []);
        return { f, proxy, prefix: "/notes" };
      }
      const flags = ["--oauth", "--oauth-grant", "client_credentials", "--oauth-client-id", "m2m"];
      flags.push("--oauth-client-secret-file", secretFile, "--oauth-token-auth-method", method);
      const proxy = await startProxy(
        [...flags, "--token-dir", tokens, "--log-level", "trace", "--server-type", "streamable-http"],
        [f.rs.url],
      );
      return { f, proxy, prefix: "" };
    }

    for (const method of ["client_secret_basic", "client_secret_post"] as const) {
      it(`gets a token with no human (${method}), for the server's resource, and never shows the secret`, async () => {
        const { f, proxy, prefix } = await machine(method);
        await healthy(proxy);
        const whoami = await proxy.post(`${prefix}/whoami`, {});
        assert.equal(whoami.status, 200, whoami.text);
        assert.deepEqual(json(whoami), { client_id: "m2m", scopes: ["notes:read"] });
        const invalid = await proxy.post(`${prefix}/echo`, { nope: 1 });
        assert.equal(invalid.status, 422, invalid.text);
        const grants = tokenRequests(f, "client_credentials");
        assert.ok(grants.length >= 1);
        for (const grant of grants) {
          assert.equal(grant.clientAuth, method);
          assert.equal(grant.status, 200);
          assert.equal(grant.resource, f.rs.url);
        }
        assert.equal(authorizeRequests(f).length, 0, "no human involved");
        const seen = [whoami.text, invalid.text];
        for (const path of ["/health", `${prefix}/health`, "/openapi.json", `${prefix}/openapi.json`]) {
          seen.push((await proxy.get(path)).text);
        }
        await proxy.stop();
        seen.push(proxy.process.stderr(), proxy.process.stdout());
        assertNoSecret(seen.join("\n"), [SECRET, ...f.as.secrets()]);
        // The SDK's own notices (it writes "[mcp-sdk] ..." to the console) join the log as JSON lines.
        const lines = proxy.process
          .stderr()
          .split("\n")
          .filter((line) => line.trim() !== "");
        assert.deepEqual(
          lines.filter((line) => !line.startsWith("{")),
          [],
          "every stderr line is a JSON log line",
        );
        assert.ok(lines.some((line) => line.includes('"from":"console"') && line.includes("[mcp-sdk]")));
      });
    }

    it("sends a pre-registered client's secret only to the authorization server named by --oauth-issuer", async () => {
      const f = await fixture({ as: { clients: [{ client_id: "m2m", client_secret: SECRET }] } });
      const dir = mkdtempSync(join(tmpdir(), "mcpo-m2m-"));
      const secretFile = join(dir, "secret");
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      const start = (issuer: string) =>
        startProxy(
          [
            ...["--oauth-grant", "client_credentials", "--oauth-client-id", "m2m", "--oauth-issuer", issuer],
            ...["--oauth-client-secret-file", secretFile, "--token-dir", join(dir, issuer.length.toString())],
            ...["--retry-attempts", "1", "--server-type", "streamable-http"],
          ],
          [f.rs.url],
        );
      // Another issuer than the one the server names: the secret is never sent, and the server is not connected.
      const elsewhere = await start("https://auth.elsewhere.example");
      const refused = await waitFor("the first attempt to fail", async () => {
        const health = await elsewhere.get("/health");
        return (health.body as Json).details?.last_error ? health : undefined;
      });
      assert.equal(refused.status, 503);
      assert.match(String((refused.body as Json).details.last_error), /authorization server|issuer/i);
      assert.equal((await elsewhere.post("/echo", { message: "x" })).status, 503);
      assert.equal(tokenRequests(f, "client_credentials").length, 0, "no token request carried the secret");
      await elsewhere.stop();
      // The right issuer: a token, and no SDK notice about a missing expectedIssuer.
      const pinned = await start(f.as.issuer);
      await healthy(pinned);
      assert.equal((await pinned.post("/whoami", {})).status, 200);
      assert.equal(tokenRequests(f, "client_credentials").length, 1);
      await pinned.stop();
      assert.ok(!pinned.process.stderr().includes("expectedIssuer"), "no notice about a missing expectedIssuer");
    });

    it("gets a new token with no human after a 401 and after expiry", async () => {
      const { f, proxy, prefix } = await machine("client_secret_basic");
      await healthy(proxy);
      assert.equal((await proxy.post(`${prefix}/echo`, { message: "first" })).status, 200);
      // A token the server stops accepting (401): a new grant.
      f.as.revokeAccessTokens();
      const echo = await proxy.post(`${prefix}/echo`, { message: "after 401" });
      assert.equal(echo.status, 200, echo.text);
      assert.equal(tokenRequests(f, "client_credentials").length, 2, "a new grant after the 401");
      // Tokens that expire (1 s): a new grant whenever one has.
      shortLived(f);
      assert.equal((await proxy.post(`${prefix}/echo`, { message: "short-lived" })).status, 200);
      await sleep(1_100);
      const later = await proxy.post(`${prefix}/echo`, { message: "after expiry" });
      assert.equal(later.status, 200, later.text);
      const grants = tokenRequests(f, "client_credentials");
      assert.ok(grants.length >= 4, `a new token after expiry (saw ${grants.length} grants)`);
      assert.ok(grants.every((grant) => grant.status === 200));
      assert.equal(authorizeRequests(f).length, 0, "no human involved");
      await proxy.stop();
    });
  });
});
