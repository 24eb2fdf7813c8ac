import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TokenStore } from "../../src/upstream/oauth/token-store.js";
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { stopAll } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The proxy with an OAuth upstream and no token: state `unauthorized` (with the command to run), calls answered
 * 503 login_required, no fast retries, and a prompt reconnect once the token store changes (as `mcpo auth`
 * changes it). The upstream is a loopback server that answers every MCP request 401 with a resource_metadata
 * challenge, and records the Authorization header of each.
 */
describe("an OAuth upstream without a token", () => {
  const seen: (string | undefined)[] = [];
  const upstream = createServer((request, response) => {
    const base = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };
    if (request.method === "POST" && request.url === "/mcp") {
      seen.push(request.headers.authorization);
      request.resume();
      return json(
        401,
        {},
        { "www-authenticate": `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` },
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
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (request.method === "POST" && request.url === "/register") {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => json(201, { ...(JSON.parse(body) as object), client_id: "registered-by-proxy" }));
      return;
    }
    json(404, {});
  });
  const tokenDir = mkdtempSync(join(tmpdir(), "mcpo-oauth-e2e-"));
  let url = "";
  let proxy: Proxy;

  before(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/mcp`;
    // A retry delay that would spin fast if `unauthorized` were retried like an outage.
    proxy = await startProxy(
      [
        "--server-type",
        "streamable-http",
        "--oauth",
        "--token-dir",
        tokenDir,
        "--retry-delay",
        "0.05",
        "--log-level",
        "debug",
      ],
      [url],
    );
  });
  after(async () => {
    await stopAll();
    upstream.closeAllConnections();
    upstream.close();
    rmSync(tokenDir, { recursive: true, force: true });
  });

  it("is unauthorized in /health, naming the login command, and calls get 503 login_required", async () => {
    const health = await waitFor("the state unauthorized", async () => {
      const answer = await proxy.get("/health");
      const details = (answer.body as { details?: { state?: string; last_error?: string } }).details;
      return details?.state === "unauthorized" ? { answer, details } : undefined;
    });
    assert.equal(health.answer.status, 503);
    const command = `mcpo auth --oauth --server-type streamable-http --token-dir ${tokenDir} -- ${url}`;
    assert.ok(health.details.last_error?.includes(command), health.details.last_error);
    const call = await proxy.post("/search", { q: "x" });
    assert.equal(call.status, 503);
    const detail = (call.body as { detail: { code: string; message: string; command: string } }).detail;
    assert.equal(detail.code, "login_required");
    assert.equal(detail.command, command);
    assert.match(detail.message, /needs a login before tool "search": run `mcpo auth/);
  });

  it("does not retry fast, and reconnects promptly with the token once the store changes", async () => {
    const before = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(seen.length - before <= 1, `${seen.length - before} attempts in 1.5 s while waiting for a login`);
    // What `mcpo auth` would write: the proxy notices the file and tries again with the token.
    new TokenStore(tokenDir, "", url).update((content) => ({
      ...content,
      tokens: { access_token: "token-from-login", token_type: "Bearer" },
    }));
    const changedAt = Date.now();
    await waitFor("a request with the new token", () => seen.includes("Bearer token-from-login"), 3000);
    assert.ok(Date.now() - changedAt < 3000);
    // Refused again (this upstream refuses everything): back to unauthorized, and the token never in the log.
    await waitFor("unauthorized again", async () => {
      const details = ((await proxy.get("/health")).body as { details?: { state?: string } }).details;
      return details?.state === "unauthorized";
    });
    assert.ok(!proxy.process.stderr().includes("token-from-login"), "the token is in the log");
  });
});
