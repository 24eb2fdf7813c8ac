/**
 * The OAuth fixture (test/fixtures/oauth), proved with plain HTTP and the v2 SDK
 * client alone, so that the proxy's end-to-end tests (oauth.test.ts) stand on a
 * server known to behave.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { startOAuthFixture, startResourceServer, type OAuthFixture } from "../fixtures/oauth/index.js";

type Json = Record<string, any>;

const REDIRECT = "http://127.0.0.1:33418/callback";

async function form(url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Json> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params),
  });
  return { status: response.status, ...((await response.json()) as Json) };
}

async function register(issuer: string, metadata: Json): Promise<Json> {
  const response = await fetch(`${issuer}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
  return { status: response.status, ...((await response.json()) as Json) };
}

/** Registers a public client, then walks /authorize and /token as a browser and a client would. */
async function signIn(fixture: OAuthFixture, scope = "notes:read", resource = fixture.rs.url): Promise<Json> {
  const client = await register(fixture.as.issuer, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(`${fixture.as.issuer}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "the-state",
    scope,
    resource,
  }).toString();
  const answer = await fetch(authorize, { redirect: "manual" });
  assert.equal(answer.status, 302);
  const back = new URL(answer.headers.get("location")!);
  assert.equal(back.origin + back.pathname, REDIRECT);
  assert.equal(back.searchParams.get("state"), "the-state");
  assert.equal(back.searchParams.get("iss"), fixture.as.issuer);
  const tokens = await form(`${fixture.as.issuer}/token`, {
    grant_type: "authorization_code",
    code: back.searchParams.get("code")!,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: client.client_id,
    resource,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens));
  return { ...tokens, client_id: client.client_id };
}

/** One JSON-RPC request to the MCP endpoint, as a 2025 stateless client sends it. */
async function rpc(url: string, token: string | undefined, method: string, params: Json = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
}

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "oauth-fixture-test", version: "0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const text = (result: Json): string => (result.content as Json[])[0]!.text as string;

describe("OAuth fixture", () => {
  let fixture: OAuthFixture;
  before(async () => {
    fixture = await startOAuthFixture({ as: { clients: [{ client_id: "m2m", client_secret: "m2m-secret" }] } });
  });
  after(() => fixture.stop());

  it("publishes RFC 8414 metadata (S256 only, iss in responses) and RFC 9728 metadata naming it", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const metadata = (await (await fetch(`${fixture.as.issuer}${path}`)).json()) as Json;
      assert.equal(metadata.issuer, fixture.as.issuer);
      assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
      assert.equal(metadata.authorization_response_iss_parameter_supported, true);
      assert.equal(metadata.registration_endpoint, `${fixture.as.issuer}/register`);
    }
    const prm = (await (await fetch(fixture.rs.metadataUrl)).json()) as Json;
    assert.deepEqual(prm, {
      resource: fixture.rs.url,
      authorization_servers: [fixture.as.issuer],
      scopes_supported: ["notes:read", "notes:write"],
      bearer_methods_supported: ["header"],
      resource_name: "mcpo-ts OAuth fixture",
    });
  });

  it("answers 401 with a Bearer challenge naming the metadata and the base scope", async () => {
    const answer = await rpc(fixture.rs.url, undefined, "tools/list");
    assert.equal(answer.status, 401);
    const challenge = answer.headers.get("www-authenticate")!;
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, new RegExp(`resource_metadata="${fixture.rs.metadataUrl}"`));
    assert.match(challenge, /scope="notes:read"/);
    assert.equal((await rpc(fixture.rs.url, "not-a-token", "tools/list")).status, 401);
  });

  it("runs the authorization code flow with PKCE; the token calls tools on the v2 SDK server", async () => {
    const tokens = await signIn(fixture);
    assert.equal(tokens.token_type, "Bearer");
    assert.equal(tokens.scope, "notes:read");
    assert.equal(typeof tokens.refresh_token, "string");
    const client = await connect(fixture.rs.url, tokens.access_token);
    try {
      assert.equal(text(await client.callTool({ name: "echo", arguments: { message: "hi" } })), "echo: hi");
      assert.deepEqual(JSON.parse(text(await client.callTool({ name: "whoami", arguments: {} }))), {
        client_id: tokens.client_id,
        scopes: ["notes:read"],
      });
    } finally {
      await client.close();
    }
    const authorize = fixture.as.requests.filter((r) => r.endpoint === "authorize").at(-1)!;
    assert.equal(authorize.codeChallengeMethod, "S256");
    assert.equal(authorize.redirectUri, REDIRECT);
    assert.equal(authorize.resource, fixture.rs.url);
    assert.equal(authorize.scope, "notes:read");
  });

  it("answers 403 insufficient_scope naming the step-up scope for write-note, and runs it with that scope", async () => {
    const narrow = await signIn(fixture);
    const refused = await rpc(fixture.rs.url, narrow.access_token, "tools/call", {
      name: "write-note",
      arguments: { text: "x" },
    });
    assert.equal(refused.status, 403);
    const challenge = refused.headers.get("www-authenticate")!;
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="notes:write"/);
    assert.match(challenge, new RegExp(`resource_metadata="${fixture.rs.metadataUrl}"`));
    const wide = await signIn(fixture, "notes:read notes:write");
    const client = await connect(fixture.rs.url, wide.access_token);
    try {
      assert.equal(text(await client.callTool({ name: "write-note", arguments: { text: "x" } })), "noted: x");
    } finally {
      await client.close();
    }
  });

  it("refuses a non-loopback redirect URI at registration and a wrong PKCE verifier at /token", async () => {
    const remote = await register(fixture.as.issuer, { redirect_uris: ["https://evil.example/callback"] });
    assert.equal(remote.status, 400);
    assert.equal(remote.error, "invalid_redirect_uri");
    const client = await register(fixture.as.issuer, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
    const authorize = new URL(`${fixture.as.issuer}/authorize`);
    const params = {
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      code_challenge: createHash("sha256").update("right").digest("base64url"),
      state: "s",
    };
    authorize.search = new URLSearchParams({ ...params, code_challenge_method: "plain" }).toString();
    const plain = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    assert.equal(plain.searchParams.get("error"), "invalid_request");
    authorize.search = new URLSearchParams({ ...params, code_challenge_method: "S256" }).toString();
    const back = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    const exchange = await form(`${fixture.as.issuer}/token`, {
      grant_type: "authorization_code",
      code: back.searchParams.get("code")!,
      code_verifier: "wrong",
      redirect_uri: REDIRECT,
      client_id: client.client_id,
    });
    assert.equal(exchange.status, 400);
    assert.equal(exchange.error, "invalid_grant");
    const unregistered = new URL(authorize);
    unregistered.searchParams.set("redirect_uri", "http://127.0.0.1:33418/elsewhere");
    assert.equal((await fetch(unregistered, { redirect: "manual" })).status, 400);
    // RFC 8252 §7.3: a loopback redirect URI may name another port than the registered one.
    const otherPort = new URL(authorize);
    otherPort.searchParams.set("redirect_uri", "http://127.0.0.1:40123/callback");
    const moved = await fetch(otherPort, { redirect: "manual" });
    assert.equal(moved.status, 302);
    assert.match(moved.headers.get("location")!, /^http:\/\/127\.0\.0\.1:40123\/callback\?/);
  });

  it("rotates refresh tokens (each works once) and refuses a revoked one", async () => {
    const tokens = await signIn(fixture);
    const refresh = (token: string): Promise<Json> =>
      form(`${fixture.as.issuer}/token`, {
        grant_type: "refresh_token",
        refresh_token: token,
        client_id: tokens.client_id,
      });
    const first = await refresh(tokens.refresh_token);
    assert.equal(first.status, 200);
    assert.notEqual(first.refresh_token, tokens.refresh_token);
    assert.equal(first.scope, "notes:read");
    assert.equal((await refresh(tokens.refresh_token)).error, "invalid_grant");
    assert.equal(fixture.as.introspect(first.access_token)?.resource, fixture.rs.url, "the resource binding is kept");
    assert.ok(fixture.as.revokeRefreshTokens(tokens.client_id) >= 1);
    const revoked = await refresh(first.refresh_token);
    assert.equal(revoked.status, 400);
    assert.equal(revoked.error, "invalid_grant");
  });

  it("revokes access tokens before their expiry on request (the resource server answers 401)", async () => {
    const tokens = await signIn(fixture);
    assert.equal((await rpc(fixture.rs.url, tokens.access_token, "tools/list")).status, 200);
    assert.ok(fixture.as.revokeAccessTokens() >= 1);
    assert.equal((await rpc(fixture.rs.url, tokens.access_token, "tools/list")).status, 401);
  });

  it("grants only what the user consents to", async () => {
    fixture.as.settings.consent = ["notes:read"];
    try {
      assert.equal((await signIn(fixture, "notes:read notes:write")).scope, "notes:read");
    } finally {
      delete fixture.as.settings.consent;
    }
  });

  it("issues tokens with the configured lifetime; the resource server refuses an expired one", async () => {
    const lifetime = fixture.as.settings.accessTokenLifetime;
    fixture.as.settings.accessTokenLifetime = -1; // already expired: no waiting
    try {
      const tokens = await signIn(fixture);
      assert.equal(tokens.expires_in, -1);
      const answer = await rpc(fixture.rs.url, tokens.access_token, "tools/list");
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get("www-authenticate")!, /error="invalid_token"/);
    } finally {
      fixture.as.settings.accessTokenLifetime = lifetime;
    }
  });

  it("refuses a token issued for another resource, and one issued for no resource", async () => {
    const other = await startResourceServer({ authorizationServer: fixture.as });
    try {
      const forOther = await signIn(fixture, "notes:read", other.url);
      assert.equal((await rpc(other.url, forOther.access_token, "tools/list")).status, 200);
      assert.equal((await rpc(fixture.rs.url, forOther.access_token, "tools/list")).status, 401);
      const m2m = await form(
        `${fixture.as.issuer}/token`,
        { grant_type: "client_credentials", scope: "notes:read" },
        { authorization: `Basic ${Buffer.from("m2m:m2m-secret").toString("base64")}` },
      );
      assert.equal(m2m.status, 200);
      assert.equal((await rpc(fixture.rs.url, m2m.access_token, "tools/list")).status, 401);
    } finally {
      await other.stop();
    }
  });

  it("serves the legacy SSE transport behind the same gate, for tokens issued for its /sse URL", async () => {
    const sse = await startResourceServer({ authorizationServer: fixture.as, transport: "sse" });
    try {
      const refused = await fetch(sse.url);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get("www-authenticate")!, new RegExp(`resource_metadata="${sse.metadataUrl}"`));
      assert.equal(((await (await fetch(sse.metadataUrl)).json()) as Json).resource, sse.url);
      const forMcp = await signIn(fixture);
      assert.equal((await fetch(sse.url, { headers: { authorization: `Bearer ${forMcp.access_token}` } })).status, 401);
      const tokens = await signIn(fixture, "notes:read", sse.url);
      const headers = { authorization: `Bearer ${tokens.access_token}` };
      const client = new Client({ name: "oauth-fixture-test", version: "0" });
      await client.connect(new SSEClientTransport(new URL(sse.url), { requestInit: { headers } }));
      try {
        assert.equal(text(await client.callTool({ name: "echo", arguments: { message: "sse" } })), "echo: sse");
      } finally {
        await client.close();
      }
    } finally {
      await sse.stop();
    }
  });

  it("grants client credentials with client_secret_basic or client_secret_post, and refuses a wrong secret", async () => {
    const token = `${fixture.as.issuer}/token`;
    const grant = { grant_type: "client_credentials", scope: "notes:read", resource: fixture.rs.url };
    const basic = await form(token, grant, {
      authorization: `Basic ${Buffer.from("m2m:m2m-secret").toString("base64")}`,
    });
    assert.equal(basic.status, 200);
    assert.equal(basic.refresh_token, undefined);
    const post = await form(token, { ...grant, client_id: "m2m", client_secret: "m2m-secret" });
    assert.equal(post.status, 200);
    assert.equal((await rpc(fixture.rs.url, post.access_token, "tools/list")).status, 200);
    const wrong = await form(token, { ...grant, client_id: "m2m", client_secret: "nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.error, "invalid_client");
    const auths = fixture.as.requests
      .filter((r) => r.grantType === "client_credentials")
      .slice(-3)
      .map((r) => r.clientAuth);
    assert.deepEqual(auths, ["client_secret_basic", "client_secret_post", "client_secret_post"]);
  });

  it("can be told to deny or to answer under a wrong issuer, and records no secret", async () => {
    const client = await register(fixture.as.issuer, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
    const authorize = new URL(`${fixture.as.issuer}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      code_challenge: "c".repeat(43),
      code_challenge_method: "S256",
      state: "s",
    }).toString();
    try {
      fixture.as.settings.authorize = "deny";
      const denied = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
      assert.equal(denied.searchParams.get("error"), "access_denied");
      assert.equal(denied.searchParams.get("iss"), fixture.as.issuer);
      fixture.as.settings.authorize = "wrong-iss";
      const mixed = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
      assert.ok(mixed.searchParams.get("code"));
      assert.notEqual(mixed.searchParams.get("iss"), fixture.as.issuer);
    } finally {
      fixture.as.settings.authorize = "approve";
    }
    const recorded = JSON.stringify(fixture.as.requests);
    const secrets = fixture.as.secrets();
    assert.ok(secrets.length > 10);
    for (const secret of secrets) assert.ok(!recorded.includes(secret), "a recorded request holds a secret");
    const control = (await (await fetch(`${fixture.as.issuer}/_control/requests`)).json()) as Json[];
    assert.equal(control.length, fixture.as.requests.length);
  });
});
