import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildConfig } from "../../../src/cli/build-config.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { ConfigFileError, parseConfigText, type ConfigFileOptions } from "../../../src/config/load-config-file.js";
import { cliOptions } from "../../helpers/cli-options.js";

const FILE = "/etc/mcpo/config.json";
const URL = "https://mcp.example.com/mcp";

function load(forward: unknown, extra: Record<string, unknown> = {}, options: Partial<ConfigFileOptions> = {}) {
  const text = JSON.stringify({ mcpServers: { gh: { type: "streamable-http", url: URL, forward, ...extra } } });
  return parseConfigText(text, FILE, { env: {}, cliSettings: {}, ...options });
}

function problems(
  forward: unknown,
  extra: Record<string, unknown> = {},
  options: Partial<ConfigFileOptions> = {},
): string[] {
  try {
    load(forward, extra, options);
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, String(error));
    return [...error.problems];
  }
  return assert.fail("accepted");
}

describe("the forward block", () => {
  it("resolves names to lower case, seconds to milliseconds, and fills the defaults (100 sessions, 300 s)", () => {
    const [server] = load({ headers: ["Authorization", "X-OpenWebUI-User-*"] }).servers;
    assert.deepEqual(server!.forward, {
      headers: ["authorization", "x-openwebui-user-*"],
      templates: {},
      maxSessions: 100,
      sessionIdleTimeoutMs: 300_000,
    });
    const [tuned] = load({
      templates: { "X-User": "{header.X-OpenWebUI-User-Email}" },
      max_sessions: 5,
      session_idle_timeout: 1.5,
    }).servers;
    assert.equal(tuned!.forward!.maxSessions, 5);
    assert.equal(tuned!.forward!.sessionIdleTimeoutMs, 1500);
  });

  it("is refused on a stdio server: stdio servers have one identity", () => {
    const text = JSON.stringify({ mcpServers: { s: { command: "node", forward: { headers: ["X-User"] } } } });
    assert.throws(
      () => parseConfigText(text, FILE, { env: {}, cliSettings: {} }),
      (error: unknown) =>
        error instanceof ConfigFileError &&
        error.problems.some((p) => p.startsWith("mcpServers.s.forward: stdio servers have one identity")),
    );
  });

  it("refuses forwarding Authorization when callers authenticate with a static API key (global or the server's)", () => {
    const global = problems({ headers: ["Authorization"] }, {}, { globalApiKey: true });
    assert.match(global.join("\n"), /mcpServers\.gh\.forward: forwards the caller's Authorization header/);
    const own = problems({ headers: ["authorization"] }, { api_key: "k" });
    assert.match(own.join("\n"), /the upstream would receive the proxy's key/);
    const templated = problems({ templates: { "X-Token": "{header.Authorization}" } }, { api_key: "k" });
    assert.match(templated.join("\n"), /forwards the caller's Authorization header/);
    // Other headers beside an API key are fine.
    assert.equal(load({ headers: ["X-OpenWebUI-User-*"] }, { api_key: "k" }).servers.length, 1);
  });

  it("refuses forwarding Authorization to a server the proxy signs in to with OAuth (both would set it)", () => {
    const found = problems({ headers: ["Authorization"] }, { oauth: {} });
    assert.match(found.join("\n"), /mcpServers\.gh\.forward: .*the proxy signs in to this server with OAuth/);
    assert.equal(load({ headers: ["X-OpenWebUI-User-Id"] }, { oauth: {} }).servers.length, 1);
  });

  it("refuses a bare *, hop-by-hop and proxy-owned headers, and templates that read none", () => {
    const found = problems({
      headers: ["*", "Host", "Connection", "Mcp-Session-Id", "MCP-Protocol-Version", "Content-Length", "bad name"],
      templates: { Host: "{header.X-A}", "X-Const": "constant", "X-B": "{header.Mcp-Session-Id}" },
    }).join("\n");
    assert.match(found, /headers\[0\]: a bare "\*" would forward every header/);
    for (const index of [1, 2, 3, 4, 5]) assert.match(found, new RegExp(`headers\\[${index}\\]: .* never forwarded`));
    assert.match(found, /headers\[6\]: "bad name" is not a header name/);
    assert.match(found, /templates\.Host: .* cannot be templated/);
    assert.match(found, /templates\.X-Const: reads no caller header/);
    assert.match(found, /templates\.X-B: \{header\.mcp-session-id\} is set by the proxy/);
  });

  it("refuses an empty block, unknown keys and bad bounds", () => {
    assert.match(problems({}).join("\n"), /needs "headers" or "templates"/);
    assert.match(problems({ headers: ["X-A"], max_session: 3 }).join("\n"), /max_session/);
    assert.match(problems({ headers: ["X-A"], max_sessions: 0 }).join("\n"), /max_sessions: must be at least 1/);
    assert.match(problems({ headers: ["X-A"], session_idle_timeout: 0 }).join("\n"), /session_idle_timeout/);
  });
});

describe("--forward-header", () => {
  const build = (extra: Parameters<typeof cliOptions>[0], target = ["streamable-http"]) =>
    buildConfig(
      cliOptions({ serverType: target[0], ...extra }),
      target[0] === "stdio" ? ["node", "server.js"] : [URL],
      {},
    );

  it("turns forwarding on for the single server, repeatable and comma-separable", () => {
    const { config } = build({ forwardHeader: ["Authorization", "X-OpenWebUI-User-Id,X-OpenWebUI-Chat-Id"] });
    assert.deepEqual(config.servers[0]!.forward, {
      headers: ["authorization", "x-openwebui-user-id", "x-openwebui-chat-id"],
      templates: {},
      maxSessions: 100,
      sessionIdleTimeoutMs: 300_000,
    });
    const tuned = build({ forwardHeader: ["X-A"], forwardMaxSessions: "3", forwardSessionIdleTimeout: "60" });
    assert.equal(tuned.config.servers[0]!.forward!.maxSessions, 3);
    assert.equal(tuned.config.servers[0]!.forward!.sessionIdleTimeoutMs, 60_000);
    assert.equal(build({}).config.servers[0]!.forward, undefined);
  });

  it("is refused for a stdio server, beside --api-key when it forwards Authorization, and for bad names", () => {
    assert.throws(
      () => build({ forwardHeader: ["X-A"] }, ["stdio"]),
      (e: unknown) => e instanceof UsageError && /stdio servers have one identity/.test(e.message),
    );
    assert.throws(
      () => build({ forwardHeader: ["Authorization"], apiKey: "k" }),
      (e: unknown) => e instanceof UsageError && /would receive the proxy's key/.test(e.message),
    );
    assert.ok(build({ forwardHeader: ["X-User"], apiKey: "k" }).config.servers[0]!.forward);
    assert.throws(
      () => build({ forwardHeader: ["Authorization"], oauth: true }),
      (e: unknown) =>
        e instanceof UsageError && /--forward-header: .*signs in to this server with OAuth/.test(e.message),
    );
    assert.throws(
      () => build({ forwardHeader: ["Host"] }),
      (e: unknown) => e instanceof UsageError && /--forward-header: "Host" is set by the proxy/.test(e.message),
    );
    assert.throws(
      () => build({ forwardMaxSessions: "3" }),
      (e: unknown) => e instanceof UsageError && /need --forward-header/.test(e.message),
    );
    assert.throws(
      () => build({ forwardHeader: ["X-A"], forwardMaxSessions: "0" }),
      (e: unknown) => e instanceof UsageError && /--forward-max-sessions/.test(e.message),
    );
  });
});
