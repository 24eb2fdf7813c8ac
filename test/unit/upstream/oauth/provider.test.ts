import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, mock } from "node:test";
import { SdkErrorCode, SdkHttpError, UnauthorizedError } from "@modelcontextprotocol/client";
import type { OAuthSettings } from "../../../../src/config/schema.js";
import { classifyError } from "../../../../src/upstream/classify-error.js";
import {
  isLoopbackRedirect,
  loopbackRedirectUrl,
  sameState,
  StoreProvider,
} from "../../../../src/upstream/oauth/provider.js";
import { TokenStore } from "../../../../src/upstream/oauth/token-store.js";
import { UpstreamAuth } from "../../../../src/upstream/oauth/upstream-auth.js";

const RESOURCE = "https://mcp.example.com/mcp";
const dir = mkdtempSync(join(tmpdir(), "mcpo-provider-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const settings = (extra: Partial<OAuthSettings> = {}): OAuthSettings => ({
  grant: "authorization_code",
  redirectPort: 33418,
  clientName: "mcpo-ts",
  tokenDir: join(dir, `case-${++n}`),
  loginCommand: "mcpo auth gh --config servers.json",
  ...extra,
});
const storeOf = (oauth: OAuthSettings): TokenStore => new TokenStore(oauth.tokenDir, "gh", RESOURCE);
const noRedirect = (): void => assert.fail("no redirect expected");

describe("StoreProvider", () => {
  it("redirects to the loopback address only, on /callback", () => {
    const provider = new StoreProvider({ settings: settings(), store: storeOf(settings()), onRedirect: noRedirect });
    assert.equal(provider.redirectUrl, "http://127.0.0.1:33418/callback");
    assert.deepEqual(provider.clientMetadata.redirect_uris, ["http://127.0.0.1:33418/callback"]);
    assert.equal(loopbackRedirectUrl(0), "http://127.0.0.1:0/callback");
    assert.equal(isLoopbackRedirect("http://127.0.0.1:5/callback"), true);
    assert.equal(isLoopbackRedirect("http://localhost:5/callback"), false);
    assert.equal(isLoopbackRedirect("https://example.com/callback"), false);
  });

  it("makes a new random state per request, and compares states in constant time", () => {
    const provider = new StoreProvider({ settings: settings(), store: storeOf(settings()), onRedirect: noRedirect });
    const a = provider.state();
    const b = provider.state();
    assert.notEqual(a, b);
    assert.equal(provider.expectedState, b);
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(sameState(b, b), true);
    assert.equal(sameState(b, a), false);
    assert.equal(sameState(b, b.slice(1)), false);
    assert.equal(sameState(b, null), false);
  });

  it("keeps tokens in the store and hides an expiring access token from the per-request read only", () => {
    const oauth = settings();
    const store = storeOf(oauth);
    const provider = new StoreProvider({ settings: oauth, store, onRedirect: noRedirect });
    mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    provider.saveTokens({ access_token: "at", token_type: "Bearer", refresh_token: "rt", expires_in: 10 });
    assert.equal(store.read().tokens?.access_token, "at");
    assert.equal(provider.tokens()?.access_token, "at");
    // 0.5 s left of 10 s, within the margin (a tenth of its life): the request goes without (401), and the SDK
    // refreshes with ctx.
    mock.timers.tick(9_500);
    assert.equal(provider.tokens(), undefined);
    assert.equal(provider.tokens({ issuer: "https://as.example.com" })?.refresh_token, "rt");
    provider.saveTokens({ access_token: "at2", token_type: "Bearer", refresh_token: "rt", expires_in: 3600 });
    assert.equal(provider.tokens()?.access_token, "at2");
    assert.equal(JSON.stringify(provider.tokens()).includes("expires_at"), false);
    mock.timers.reset();
  });

  it("keeps dynamically registered clients per issuer; a pre-registered client is stamped, never stored", () => {
    const oauth = settings();
    const store = storeOf(oauth);
    const provider = new StoreProvider({ settings: oauth, store, onRedirect: noRedirect });
    provider.saveClientInformation({ client_id: "one" }, { issuer: "https://a.example.com" });
    provider.saveClientInformation({ client_id: "two" }, { issuer: "https://b.example.com" });
    assert.equal(provider.clientInformation({ issuer: "https://a.example.com" })?.client_id, "one");
    assert.equal(provider.clientInformation({ issuer: "https://b.example.com" })?.client_id, "two");
    assert.equal(provider.clientInformation({ issuer: "https://c.example.com" }), undefined);

    const fixed = settings({ clientId: "pre", clientSecret: "sec" });
    const pre = new StoreProvider({ settings: fixed, store: storeOf(fixed), onRedirect: noRedirect });
    assert.deepEqual(pre.clientInformation({ issuer: "https://a.example.com" }), {
      client_id: "pre",
      client_secret: "sec",
      redirect_uris: ["http://127.0.0.1:33418/callback"],
      issuer: "https://a.example.com",
    });
    pre.saveClientInformation({ client_id: "other" }, { issuer: "https://a.example.com" });
    assert.equal(storeOf(fixed).read().clients, undefined);
  });

  it("invalidates tokens or clients in the store", () => {
    const oauth = settings();
    const store = storeOf(oauth);
    const provider = new StoreProvider({ settings: oauth, store, onRedirect: noRedirect });
    provider.saveTokens({ access_token: "at", token_type: "Bearer" });
    provider.saveClientInformation({ client_id: "one" }, { issuer: "https://a.example.com" });
    provider.invalidateCredentials("tokens");
    assert.equal(store.read().tokens, undefined);
    assert.ok(store.read().clients);
    provider.invalidateCredentials("all");
    assert.equal(store.read().clients, undefined);
  });

  it("invalidates only the tokens it was refused with: a login written meanwhile by another process stays", () => {
    const oauth = settings();
    const proxy = new StoreProvider({ settings: oauth, store: storeOf(oauth), onRedirect: noRedirect });
    // The proxy's request goes out with the old token...
    storeOf(oauth).write({ version: 1, resource: RESOURCE, tokens: { access_token: "old", token_type: "Bearer" } });
    assert.equal(proxy.tokens()?.access_token, "old");
    // ...`mcpo auth` (its own store object, as in its own process) saves a new login...
    const login = new StoreProvider({
      settings: oauth,
      store: storeOf(oauth),
      onRedirect: noRedirect,
      freshLogin: true,
    });
    login.saveTokens({ access_token: "new", token_type: "Bearer", scope: "read write" });
    // ...and then the refusal of the old token reaches the proxy's SDK, which invalidates "the tokens".
    proxy.invalidateCredentials("tokens");
    assert.equal(storeOf(oauth).read().tokens?.access_token, "new", "the new login survives");
    assert.equal(proxy.tokens()?.access_token, "new");
    proxy.invalidateCredentials("tokens");
    assert.equal(storeOf(oauth).read().tokens, undefined, "refused in turn, it goes");
  });
});

describe("UpstreamAuth in the proxy", () => {
  it("prints and opens nothing on a redirect; a step-up is recorded for mcpo auth, with its scope", async () => {
    const oauth = settings();
    const upstream = new UpstreamAuth("gh", RESOURCE, oauth);
    const store = upstream.store;
    // No token: a plain login need, nothing recorded.
    await upstream.provider.redirectToAuthorization(new URL("https://as.example.com/authorize?scope=read"));
    assert.equal(upstream.stepUpPending, false);
    // Tokens for "read", a redirect for "read write": a step-up.
    store.update((content) => ({ ...content, tokens: { access_token: "at", token_type: "Bearer", scope: "read" } }));
    await upstream.provider.redirectToAuthorization(new URL("https://as.example.com/authorize?scope=read+write"));
    assert.equal(upstream.stepUpPending, true);
    assert.deepEqual(store.read().pending, { scope: "read write", attempts: 0 });
    // mcpo auth did it twice already: the proxy stops asking (403 upstream_forbidden).
    store.update((content) => ({ ...content, pending: { attempts: 2, done: true } }));
    await assert.rejects(
      async () =>
        upstream.provider.redirectToAuthorization(new URL("https://as.example.com/authorize?scope=read+admin")),
      /step-up login/,
    );
    // A call that goes through resets the count: the next step-up may ask a human again.
    upstream.succeeded();
    assert.equal(store.read().pending, undefined);
    await upstream.provider.redirectToAuthorization(new URL("https://as.example.com/authorize?scope=read+admin"));
    assert.deepEqual(store.read().pending, { scope: "read admin", attempts: 0 });
  });
});

describe("classifyError for OAuth upstreams", () => {
  const context = {
    upstream: 'upstream "gh"',
    operation: 'tool "search"',
    retryAfterSeconds: 1,
    loginCommand: "mcpo auth gh --config servers.json",
  };

  it("answers 503 login_required naming the command when the SDK needs a human", () => {
    const error = classifyError(new UnauthorizedError(), context);
    assert.equal(error.code, "login_required");
    assert.equal(error.httpStatus, 503);
    assert.match(error.message, /run `mcpo auth gh --config servers\.json`/);
    const again = classifyError(
      new SdkHttpError(SdkErrorCode.ClientHttpAuthentication, "Server returned 401 after re-authentication", {
        status: 401,
        statusText: "Unauthorized",
      }),
      context,
    );
    assert.equal(again.code, "login_required");
  });

  it("answers 403 upstream_forbidden past the step-up limit, without the server's text", () => {
    const error = classifyError(
      new SdkHttpError(SdkErrorCode.ClientHttpForbidden, "403 after step-up", {
        status: 403,
        statusText: "Forbidden",
        text: "token at-secret-value lacks admin",
      }),
      context,
    );
    assert.equal(error.code, "upstream_forbidden");
    assert.equal(error.httpStatus, 403);
    assert.ok(!error.message.includes("at-secret-value"));
  });

  it("leaves a server without OAuth as before (a 401 is an upstream error), with a hint to configure OAuth", () => {
    const { loginCommand: _none, ...plain } = context;
    assert.notEqual(classifyError(new UnauthorizedError(), plain).code, "login_required");
    const http401 = classifyError(
      new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, "Unauthorized", {
        status: 401,
        statusText: "Unauthorized",
      }),
      plain,
    );
    assert.equal(http401.code, "upstream_error");
    assert.match(http401.message, /give it an oauth block in the config file, or --oauth/);
  });
});

describe("secrets stay out of what is shown", () => {
  it("the login command and messages never hold the client secret; the store file holds tokens only at 0600", () => {
    const oauth = settings({ clientId: "pre", clientSecret: "client-secret-value" });
    const upstream = new UpstreamAuth("gh", RESOURCE, oauth);
    assert.ok(!upstream.loginCommand?.includes("client-secret-value"));
    void upstream.provider.saveTokens({ access_token: "at", token_type: "Bearer" });
    assert.ok(!readFileSync(upstream.store.file, "utf8").includes("client-secret-value"));
  });
});
