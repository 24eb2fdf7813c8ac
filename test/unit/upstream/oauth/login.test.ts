import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConnectionSettings, type ServerConfig } from "../../../../src/config/schema.js";
import { runLogin } from "../../../../src/upstream/oauth/login.js";
import { TokenStore } from "../../../../src/upstream/oauth/token-store.js";

/**
 * `mcpo auth` up to the human's part, against a loopback MCP server that answers 401 with a resource_metadata
 * challenge and a loopback authorization server (metadata and registration only: the test is the browser).
 */
interface Fixture {
  base: string;
  server: Server;
  /** What the authorization server says it supports. */
  methods: string[];
}

async function startFixture(): Promise<Fixture> {
  const fixture: Fixture = { base: "", server: createServer(), methods: ["S256"] };
  fixture.server.on("request", (request, response) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };
    const base = fixture.base;
    if (request.method === "POST" && request.url === "/mcp") {
      request.resume();
      return json(
        401,
        { error: "unauthorized" },
        {
          "www-authenticate": `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", scope="tools:read"`,
        },
      );
    }
    if (request.url === "/.well-known/oauth-protected-resource/mcp") {
      return json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
    }
    if (request.url === "/.well-known/oauth-authorization-server") {
      return json(200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/register`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: fixture.methods,
      });
    }
    if (request.method === "POST" && request.url === "/register") {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => json(201, { ...(JSON.parse(body) as object), client_id: "dynamic-client" }));
      return;
    }
    json(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => fixture.server.listen(0, "127.0.0.1", resolve));
  const address = fixture.server.address() as { port: number };
  fixture.base = `http://127.0.0.1:${address.port}`;
  return fixture;
}

describe("mcpo auth (runLogin) up to the redirect", () => {
  let fixture: Fixture;
  const dir = mkdtempSync(join(tmpdir(), "mcpo-login-"));
  before(async () => (fixture = await startFixture()));
  after(() => {
    fixture.server.closeAllConnections();
    fixture.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  const server = (): ServerConfig => ({
    name: "fixture",
    transport: {
      type: "streamable-http",
      url: `${fixture.base}/mcp`,
      headers: {},
      oauth: {
        grant: "authorization_code",
        redirectPort: 0,
        clientName: "mcpo-ts",
        tokenDir: join(dir, `case-${++n}`),
        loginCommand: "mcpo auth fixture --config x.json",
      },
    },
    settings: resolveConnectionSettings({ connection_timeout: 5, protocol: "legacy" }),
    disabled: false,
    tools: { disabled: [] },
  });

  /** Starts a login and resolves with the URL it printed, and the login's outcome (a promise). */
  function start(config: ServerConfig, timeoutMs = 5000) {
    let printed: (url: string) => void;
    const url = new Promise<string>((resolve) => (printed = resolve));
    const told: string[] = [];
    const outcome = runLogin({
      server: config,
      clientInfo: { name: "test", version: "1" },
      timeoutMs,
      printUrl: (line) => printed(line),
      tell: (line) => told.push(line),
    });
    outcome.catch(() => undefined); // checked by the test, maybe after it settled
    return { url, outcome, told };
  }

  it("asks with PKCE S256, a loopback redirect URI, a random state and the resource indicator", async () => {
    const config = server();
    const login = start(config);
    const url = new URL(await login.url);
    assert.equal(url.origin + url.pathname, `${fixture.base}/authorize`);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.match(url.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.match(url.searchParams.get("redirect_uri") ?? "", /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.match(url.searchParams.get("state") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get("resource"), `${fixture.base}/mcp`);
    assert.equal(url.searchParams.get("scope"), "tools:read");
    assert.equal(url.searchParams.get("client_id"), "dynamic-client");
    // A redirect with the wrong state (same length) is refused, and nothing is stored.
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    const forged = "x".repeat(43);
    const answer = await fetch(`${callback.href}?code=stolen&state=${forged}`);
    assert.equal(answer.status, 400);
    await assert.rejects(login.outcome, /state does not match/);
    const transport = config.transport as { oauth: { tokenDir: string } };
    assert.equal(new TokenStore(transport.oauth.tokenDir, "fixture", `${fixture.base}/mcp`).read().tokens, undefined);
  });

  it("never shows the error text of an answer from another issuer", async () => {
    const login = start(server());
    const url = new URL(await login.url);
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    callback.search = new URLSearchParams({
      state: url.searchParams.get("state")!,
      error: "access_denied",
      error_description: "Call +1-555-EVIL to restore access",
      iss: "https://evil.example.com",
    }).toString();
    assert.equal((await fetch(callback)).status, 400);
    await assert.rejects(login.outcome, (error: Error) => {
      assert.match(error.message, /another issuer/);
      assert.ok(!error.message.includes("EVIL"), error.message);
      return true;
    });
  });

  it("shows the error code of a refusal from the right issuer", async () => {
    const login = start(server());
    const url = new URL(await login.url);
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    callback.search = new URLSearchParams({
      state: url.searchParams.get("state")!,
      error: "access_denied",
      iss: fixture.base,
    }).toString();
    await fetch(callback);
    await assert.rejects(login.outcome, /refused: access_denied/);
  });

  it("listens on 127.0.0.1 only, answers 404 off /callback, and gives up after --timeout", async () => {
    const login = start(server(), 300);
    const url = new URL(await login.url);
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    assert.equal((await fetch(new URL("/other", callback))).status, 404);
    await assert.rejects(login.outcome, /no login came back within/);
  });

  it("refuses an authorization server that does not offer S256 (no plain PKCE)", async () => {
    fixture.methods = ["plain"];
    try {
      const login = start(server());
      let printed = false;
      void login.url.then(() => (printed = true));
      await assert.rejects(login.outcome, /S256|PKCE|code challenge/i);
      assert.equal(printed, false, "no URL was printed");
    } finally {
      fixture.methods = ["S256"];
    }
  });
});
