import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildConfig } from "../../../src/cli/build-config.js";
import type { CliOptions } from "../../../src/cli/program.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { cliOptions } from "../../helpers/cli-options.js";

const options = cliOptions;
const build = (
  extra: Partial<CliOptions> = {},
  target: string[] = ["node", "server.js"],
  env: NodeJS.ProcessEnv = {},
) => buildConfig(options(extra), target, env);
const server = (extra: Partial<CliOptions> = {}, target?: string[]) => build(extra, target).config.servers[0];

/** Asserts a UsageError whose message starts with `prefix`. */
function throwsUsage(fn: () => unknown, prefix = ""): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.ok(error.message.startsWith(prefix), `${JSON.stringify(error.message)} should start with ${prefix}`);
    return true;
  });
}

describe("buildConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-build-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes --protocol (default auto) and --elicitation (default defaults), and names the flag when wrong", () => {
    assert.equal(server()?.settings.protocol, "auto");
    assert.equal(server()?.settings.elicitation, "defaults");
    assert.equal(server({ protocol: "legacy" })?.settings.protocol, "legacy");
    assert.deepEqual(server({ protocol: "2026-07-28" })?.settings.protocol, { pin: "2026-07-28" });
    assert.equal(server({ elicitation: "decline" })?.settings.elicitation, "decline");
    throwsUsage(() => build({ protocol: "latest" }), '--protocol: unknown protocol "latest"');
    throwsUsage(() => build({ protocol: "2025-11-25" }), "--protocol: a pinned revision must be 2026-07-28 or later");
    throwsUsage(() => build({ elicitation: "ask" }), '--elicitation: unknown elicitation policy "ask"');
    assert.equal(server()?.settings.imageResults, "data-url");
    assert.equal(server({ imageResults: "binary" })?.settings.imageResults, "binary");
    throwsUsage(() => build({ imageResults: "png" }), '--image-results: unknown image_results "png"');
    throwsUsage(
      () => build({ protocol: "2026-07-28", serverType: "sse" }, ["http://127.0.0.1:1/sse"]),
      "--protocol: protocol 2026-07-28 cannot be spoken over legacy SSE",
    );
  });

  it("builds a stdio transport from the target", () => {
    const { config, logLevel } = build({}, ["npx", "-y", "server", "--flag"]);
    assert.deepEqual(config.servers[0]?.transport, {
      type: "stdio",
      command: "npx",
      args: ["-y", "server", "--flag"],
      env: {},
    });
    assert.equal(config.servers[0]?.name, "");
    assert.equal(logLevel, "info");
    assert.deepEqual(config.http, {
      host: "0.0.0.0",
      port: 8000,
      strictAuth: false,
      corsAllowOrigins: ["*"],
      rootPath: "",
      maxBodyBytes: 4 * 1024 * 1024,
      maxConnections: 1024,
      mcp: { maxSessions: 1000, sessionIdleMs: 1_800_000 },
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      metrics: {},
      accessLog: false,
    });
    throwsUsage(() => build({}, []), "missing the server command");
  });

  it("takes --no-metrics, --metrics-port and --access-log, and names the flag when wrong", () => {
    assert.equal(build({ metrics: false }).config.http.metrics, false);
    assert.deepEqual(build({ metricsPort: "9464" }).config.http.metrics, { port: 9464 });
    assert.equal(build({ accessLog: true }).config.http.accessLog, true);
    throwsUsage(() => build({ metricsPort: "nine" }), "--metrics-port");
    throwsUsage(() => build({ metricsPort: "70000" }), "--metrics-port");
  });

  it("accepts every spelling of streamable-http, from --server-type or --type", () => {
    const url = "http://127.0.0.1:9/mcp";
    for (const spelling of ["streamable_http", "streamablehttp", "streamable-http", "Streamable-HTTP"]) {
      for (const flag of ["serverType", "type"] as const) {
        const transport = server({ [flag]: spelling }, [url])?.transport;
        assert.deepEqual(transport, { type: "streamable-http", url, headers: {} }, `${flag} ${spelling}`);
      }
    }
    assert.equal(server({ serverType: "sse", type: "stdio" }, [url])?.transport.type, "sse");
  });

  it("wants exactly one http(s) URL for a remote server", () => {
    throwsUsage(() => build({ serverType: "sse" }, ["http://a/", "http://b/"]), "--server-type sse");
    throwsUsage(() => build({ serverType: "sse" }, ["not a url"]), "not an http(s) URL");
    throwsUsage(() => build({ serverType: "sse" }, ["ftp://host/x"]), "not an http(s) URL");
  });

  it("rejects an unknown server type naming the flag", () => {
    throwsUsage(() => build({ serverType: "carrier-pigeon" }), "--server-type");
    throwsUsage(() => build({ type: "websocket" }), "--server-type");
  });

  it("parses --header as a JSON object of strings", () => {
    const transport = server({ serverType: "sse", header: '{"Authorization":"Bearer x"}' }, [
      "https://h/sse",
    ])?.transport;
    assert.deepEqual(transport, { type: "sse", url: "https://h/sse", headers: { Authorization: "Bearer x" } });
    throwsUsage(() => build({ serverType: "sse", header: "{nope" }, ["http://h/"]), "--header");
    throwsUsage(() => build({ serverType: "sse", header: '"text"' }, ["http://h/"]), "--header");
    throwsUsage(() => build({ serverType: "sse", header: '["a"]' }, ["http://h/"]), "--header");
    // A bad value names the flag, not the header.
    throwsUsage(() => build({ serverType: "sse", header: '{"X":1}' }, ["http://h/"]), "--header: ");
  });

  it("rejects a blank port instead of reading it as 0", () => {
    throwsUsage(() => build({ port: "" }), "--port: ");
    throwsUsage(() => build({ port: " " }), "--port: ");
  });

  it("takes --shutdown-grace in seconds (default 5; 0 allowed), and names the flag when wrong", () => {
    assert.equal(build({}).config.shutdownGraceMs, 5000);
    assert.equal(build({ shutdownGrace: "30" }).config.shutdownGraceMs, 30_000);
    assert.equal(build({ shutdownGrace: "0.25" }).config.shutdownGraceMs, 250);
    assert.equal(build({ shutdownGrace: "0" }).config.shutdownGraceMs, 0);
    throwsUsage(() => build({ shutdownGrace: "-1" }), "--shutdown-grace: ");
    throwsUsage(() => build({ shutdownGrace: "soon" }), "--shutdown-grace: ");
    assert.equal(build({}).config.shutdownDelayMs, 0);
    assert.equal(build({ shutdownDelay: "1.5" }).config.shutdownDelayMs, 1500);
    throwsUsage(() => build({ shutdownDelay: "-1" }), "--shutdown-delay: ");
  });

  it("merges --env-path and --env, --env winning", () => {
    const envPath = join(dir, "server.env");
    writeFileSync(envPath, 'A=from-file\nB=file\n# comment\nC="quoted value"\n');
    const transport = server({ envPath, env: ["A=1", "D=x=y"] })?.transport;
    assert.deepEqual(transport?.type === "stdio" ? transport.env : undefined, {
      A: "1",
      B: "file",
      C: "quoted value",
      D: "x=y",
    });
    throwsUsage(() => build({ envPath: join(dir, "missing.env") }), "--env-path");
  });

  it("rejects --env entries without KEY=", () => {
    throwsUsage(() => build({ env: ["BAD"] }), "--env");
    throwsUsage(() => build({ env: ["=value"] }), "--env");
  });

  it("validates the port", () => {
    assert.equal(build({ port: "0" }).config.http.port, 0);
    throwsUsage(() => build({ port: "abc" }), "--port");
    throwsUsage(() => build({ port: "70000" }), "--port");
    throwsUsage(() => build({ port: "80.5" }), "--port");
  });

  it("converts connection settings from seconds to milliseconds", () => {
    const settings = server({
      toolTimeout: "1.5",
      connectionTimeout: "2",
      retryDelay: "0.25",
      retryAttempts: "-1",
    })?.settings;
    assert.equal(settings?.toolTimeoutMs, 1500);
    assert.equal(settings?.connectionTimeoutMs, 2000);
    assert.equal(settings?.retryDelayMs, 250);
    assert.equal(settings?.retryAttempts, -1);
    assert.equal(server()?.settings.toolTimeoutMs, 300_000);
    throwsUsage(() => build({ retryAttempts: "-2" }), "--retry-attempts");
    throwsUsage(() => build({ toolTimeout: "soon" }), "--tool-timeout");
  });

  it("normalises the root path", () => {
    assert.equal(build({ rootPath: "mcpo/" }).config.http.rootPath, "/mcpo");
    assert.equal(build({ rootPath: "/api//" }).config.http.rootPath, "/api");
    assert.equal(build({ rootPath: "/" }).config.http.rootPath, "");
  });

  it("checks auth and TLS options that go together", () => {
    throwsUsage(() => build({ strictAuth: true }), "--strict-auth");
    const http = build({ strictAuth: true, apiKey: "k" }).config.http;
    assert.equal(http.apiKey, "k");
    assert.equal(http.strictAuth, true);
    throwsUsage(() => build({ sslCertfile: "cert.pem" }), "--ssl-certfile");
  });

  it("takes the MCP endpoint's session bounds in seconds, and --no-mcp turns the endpoints off", () => {
    assert.deepEqual(build({ mcpMaxSessions: "7", mcpSessionIdleTimeout: "2.5" }).config.http.mcp, {
      maxSessions: 7,
      sessionIdleMs: 2500,
    });
    assert.equal(build({ mcp: false }).config.http.mcp, false);
    throwsUsage(() => build({ mcpMaxSessions: "0" }), "--mcp-max-sessions");
    throwsUsage(() => build({ mcpSessionIdleTimeout: "soon" }), "--mcp-session-idle-timeout");
  });

  it("splits comma-separated CORS origins", () => {
    const http = build({ corsAllowOrigins: ["a,b", " c "] }).config.http;
    assert.deepEqual(http.corsAllowOrigins, ["a", "b", "c"]);
  });

  it("rejects an unknown log level and accepts Python spellings", () => {
    assert.equal(build({ logLevel: "WARNING" }).logLevel, "warning");
    throwsUsage(() => build({ logLevel: "loud" }), "--log-level");
  });

  it("copies the given environment into baseEnv", () => {
    const env: NodeJS.ProcessEnv = { PATH: "/bin", HOME: "/home/u", UNSET: undefined };
    const { baseEnv } = build({}, undefined, env).config;
    assert.deepEqual(baseEnv, { PATH: "/bin", HOME: "/home/u" });
    env.PATH = "/changed";
    assert.equal(baseEnv.PATH, "/bin");
  });
});
