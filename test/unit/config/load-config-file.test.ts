import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ConfigFileError,
  formatPath,
  loadConfigFile,
  parseConfigText,
  type ConfigFileOptions,
} from "../../../src/config/load-config-file.js";
import type { ServerConfig } from "../../../src/config/schema.js";

const FILE = "/etc/mcpo/config.json";
const noOptions: ConfigFileOptions = { env: {}, cliSettings: {} };

function parse(config: unknown, options: Partial<ConfigFileOptions> = {}) {
  return parseConfigText(JSON.stringify(config), FILE, { ...noOptions, ...options });
}

function server(config: unknown, name: string, options: Partial<ConfigFileOptions> = {}): ServerConfig {
  const found = parse(config, options).servers.find((s) => s.name === name);
  assert.ok(found, `server ${name}`);
  return found;
}

/** The problems a config is refused for. */
function problemsOf(config: unknown, options: Partial<ConfigFileOptions> = {}, text?: string): readonly string[] {
  try {
    if (text === undefined) parse(config, options);
    else parseConfigText(text, FILE, { ...noOptions, ...options });
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, String(error));
    assert.equal(error.file, FILE);
    assert.equal(error.message, `invalid config file ${FILE}:\n${error.problems.map((p) => `  ${p}`).join("\n")}`);
    return error.problems;
  }
  return assert.fail("the config was accepted");
}

describe("parseConfigText: transports", () => {
  it("gives a stdio server its command, args, env and a cwd resolved against the file's folder", () => {
    const config = {
      mcpServers: {
        fs: { command: "npx", args: ["-y", "server-fs"], env: { DEBUG: "1", N: 2, B: true }, cwd: "servers/fs" },
        bare: { command: "uvx" },
        absolute: { type: "stdio", command: "run", cwd: "/opt/work" },
      },
    };
    const { servers, warnings } = parse(config);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      servers.map((s) => [s.name, s.transport, s.disabled, s.tools]),
      [
        [
          "fs",
          {
            type: "stdio",
            command: "npx",
            args: ["-y", "server-fs"],
            env: { DEBUG: "1", N: "2", B: "true" },
            cwd: "/etc/mcpo/servers/fs",
          },
          false,
          { disabled: [] },
        ],
        ["bare", { type: "stdio", command: "uvx", args: [], env: {} }, false, { disabled: [] }],
        ["absolute", { type: "stdio", command: "run", args: [], env: {}, cwd: "/opt/work" }, false, { disabled: [] }],
      ],
    );
  });

  it("reads a url without type as SSE", () => {
    assert.deepEqual(server({ mcpServers: { s: { url: "http://127.0.0.1:9000/sse" } } }, "s").transport, {
      type: "sse",
      url: "http://127.0.0.1:9000/sse",
      headers: {},
    });
  });

  it("accepts every spelling of streamable-http", () => {
    for (const type of ["streamable-http", "streamable_http", "streamablehttp", "http", "Streamable-HTTP"]) {
      const transport = server({ mcpServers: { h: { type, url: "https://example.com/mcp" } } }, "h").transport;
      assert.deepEqual(transport, { type: "streamable-http", url: "https://example.com/mcp", headers: {} }, type);
    }
  });

  it("turns auth_token into an Authorization header, explicit headers winning", () => {
    const token = server(
      { mcpServers: { a: { type: "sse", url: "http://h/sse", auth_token: "t0k", headers: { "X-Id": 7 } } } },
      "a",
    );
    assert.deepEqual(token.transport, {
      type: "sse",
      url: "http://h/sse",
      headers: { Authorization: "Bearer t0k", "X-Id": "7" },
    });
    const explicit = server(
      { mcpServers: { a: { url: "http://h/sse", auth_token: "t0k", headers: { Authorization: "Basic abc" } } } },
      "a",
    );
    assert.deepEqual(explicit.transport, { type: "sse", url: "http://h/sse", headers: { Authorization: "Basic abc" } });
  });

  it("adds no Authorization header for an empty auth_token", () => {
    const config = { mcpServers: { a: { url: "http://h/sse", auth_token: "${TOKEN:-}" } } };
    assert.deepEqual(server(config, "a").transport, { type: "sse", url: "http://h/sse", headers: {} });
  });

  describe("tls", () => {
    let dir = "";
    let file = "";
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "mcpo-unit-config-"));
      file = join(dir, "config.json");
      for (const name of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(dir, name), "not really PEM\n");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const load = (entry: Record<string, unknown>) => {
      writeFileSync(
        file,
        JSON.stringify({ mcpServers: { s: { type: "streamable-http", url: "https://h/mcp", ...entry } } }),
      );
      return loadConfigFile(file, noOptions);
    };

    it("is absent with verify_ssl on and no paths", () => {
      const transport = load({ verify_ssl: true }).servers[0]?.transport;
      assert.deepEqual(transport, { type: "streamable-http", url: "https://h/mcp", headers: {} });
    });

    it("is { verify: false } with verify_ssl false", () => {
      const transport = load({ verify_ssl: false }).servers[0]?.transport;
      assert.deepEqual(transport, {
        type: "streamable-http",
        url: "https://h/mcp",
        headers: {},
        tls: { verify: false },
      });
    });

    it("resolves certificate paths against the file's folder", () => {
      const transport = load({ ssl_ca_path: "ca.pem", ssl_cert_path: "./cert.pem", ssl_key_path: join(dir, "key.pem") })
        .servers[0]?.transport;
      assert.deepEqual(transport, {
        type: "streamable-http",
        url: "https://h/mcp",
        headers: {},
        tls: {
          verify: true,
          caPath: join(dir, "ca.pem"),
          certPath: join(dir, "cert.pem"),
          keyPath: join(dir, "key.pem"),
        },
      });
    });

    it("reports an unreadable path and a certificate without its key", () => {
      assert.throws(
        () => load({ ssl_ca_path: "missing.pem", ssl_cert_path: "cert.pem" }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigFileError);
          assert.deepEqual(error.problems, [
            `mcpServers.s.ssl_ca_path: cannot read ${join(dir, "missing.pem")} (ENOENT)`,
            "mcpServers.s: ssl_cert_path and ssl_key_path go together",
          ]);
          return true;
        },
      );
    });
  });
});

describe("parseConfigText: connection settings", () => {
  it("layers defaults < file connection_settings < command line < the server's own, in milliseconds", () => {
    const config = {
      connection_settings: { retry_delay: 1, tool_timeout: 10, max_concurrency: 4 },
      mcpServers: {
        own: { command: "a", connection_settings: { max_concurrency: 16, retry_attempts: -1 } },
        plain: { command: "b" },
      },
    };
    const options = { cliSettings: { tool_timeout: 20, max_concurrency: 8 } };
    assert.deepEqual(server(config, "own", options).settings, {
      retryAttempts: -1,
      retryDelayMs: 1000,
      maxRetryDelayMs: 60_000,
      backoffFactor: 2,
      connectionTimeoutMs: 30_000,
      sseReadTimeoutMs: 60_000,
      toolTimeoutMs: 20_000,
      maxToolTimeoutMs: 1_800_000,
      maxConcurrency: 16,
      maxQueue: 1024,
      healthCheckIntervalMs: 0,
      protocol: "auto",
      elicitation: "defaults",
      imageResults: "data-url",
    });
    const plain = server(config, "plain", options).settings;
    assert.equal(plain.maxConcurrency, 8);
    assert.equal(plain.retryAttempts, 3);
    assert.equal(plain.toolTimeoutMs, 20_000);
  });

  it("takes protocol (auto, legacy or a pinned revision) and the elicitation policy, layered like the rest", () => {
    const config = {
      connection_settings: { protocol: "legacy", elicitation: "decline" },
      mcpServers: {
        pinned: { type: "streamable-http", url: "http://h/mcp", connection_settings: { protocol: "2026-07-28" } },
        inherits: { command: "b" },
        auto: { command: "c", connection_settings: { protocol: "AUTO", elicitation: "defaults" } },
      },
    };
    assert.deepEqual(server(config, "pinned").settings.protocol, { pin: "2026-07-28" });
    assert.equal(server(config, "pinned").settings.elicitation, "decline");
    assert.equal(server(config, "inherits").settings.protocol, "legacy");
    assert.equal(server(config, "auto").settings.protocol, "auto");
    assert.equal(server(config, "auto").settings.elicitation, "defaults");
  });

  it("takes image_results (data-url by default, or binary), layered like the rest", () => {
    const config = {
      connection_settings: { image_results: "binary" },
      mcpServers: {
        inherits: { command: "a" },
        own: { command: "b", connection_settings: { image_results: "data-url" } },
      },
    };
    assert.equal(server(config, "inherits").settings.imageResults, "binary");
    assert.equal(server(config, "own").settings.imageResults, "data-url");
    assert.equal(server({ mcpServers: { s: { command: "a" } } }, "s").settings.imageResults, "data-url");
  });

  it("refuses an unknown protocol or policy, a 2025 pin, and a pin over legacy SSE, naming the key", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { command: "a", connection_settings: { protocol: "newest" } },
        /connection_settings\.protocol: .*use auto, legacy or a revision/,
      ],
      [
        { command: "a", connection_settings: { protocol: "2025-06-18" } },
        /connection_settings\.protocol: .*2026-07-28 or later/,
      ],
      [
        { command: "a", connection_settings: { elicitation: "ask" } },
        /connection_settings\.elicitation: .*use defaults or decline/,
      ],
      [
        { command: "a", connection_settings: { image_results: "png" } },
        /connection_settings\.image_results: .*use data-url or binary/,
      ],
      [
        { url: "http://h/sse", connection_settings: { protocol: "2026-07-28" } },
        /connection_settings\.protocol: .*legacy SSE/,
      ],
    ];
    for (const [entry, problem] of cases) {
      assert.throws(
        () => parse({ mcpServers: { s: entry } }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigFileError);
          assert.ok(
            error.problems.some((p) => problem.test(p)),
            error.problems.join("; "),
          );
          return true;
        },
      );
    }
  });

  it("gives the defaults when nothing is set", () => {
    const settings = server({ mcpServers: { a: { command: "a" } } }, "a").settings;
    assert.equal(settings.retryDelayMs, 2000);
    assert.equal(settings.toolTimeoutMs, 300_000);
    assert.equal(settings.maxQueue, 1024);
    assert.equal(settings.protocol, "auto");
    assert.equal(settings.elicitation, "defaults");
  });
});

describe("parseConfigText: tool filters, disabled servers, api keys", () => {
  it("merges disabledTools and disabled_tools, keeps enabledTools", () => {
    const config = {
      mcpServers: {
        a: { command: "a", disabledTools: ["x"], disabled_tools: ["y"], enabledTools: ["x", "z"] },
        b: { command: "b", enabled_tools: ["only"] },
      },
    };
    assert.deepEqual(server(config, "a").tools, { enabled: ["x", "z"], disabled: ["x", "y"] });
    assert.deepEqual(server(config, "b").tools, { enabled: ["only"], disabled: [] });
  });

  it("keeps a disabled server, marked disabled, and only warns about its unset variables", () => {
    const config = {
      mcpServers: {
        off: { command: "a", env: { KEY: "${UNSET_KEY}" }, disabled: true },
        on: { command: "b", api_key: "${SERVER_KEY}" },
      },
    };
    const { servers, warnings } = parse(config, { env: { SERVER_KEY: "s3cret" } });
    assert.deepEqual(
      servers.map((s) => [s.name, s.disabled]),
      [
        ["off", true],
        ["on", false],
      ],
    );
    assert.equal(servers[1]?.apiKey, "s3cret");
    assert.equal("apiKey" in (servers[0] ?? {}), false);
    assert.deepEqual(warnings, [
      "mcpServers.off.env.KEY: ${UNSET_KEY} is not set (use ${UNSET_KEY:-default} for a default)",
    ]);
  });

  it("refuses an unset variable in an enabled server, naming its path", () => {
    assert.deepEqual(problemsOf({ mcpServers: { x: { url: "http://h/sse", headers: { A: "${NOPE}" } } } }), [
      "mcpServers.x.headers.A: ${NOPE} is not set (use ${NOPE:-default} for a default)",
    ]);
  });
});

describe("parseConfigText: problems and warnings", () => {
  it("refuses text that is not JSON", () => {
    const problems = problemsOf(undefined, {}, "{ not json");
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^not valid JSON: /);
  });

  it("never quotes the file's text in that message (it may hold a token)", () => {
    const problems = problemsOf(undefined, {}, '{"mcpServers": {"x": {"headers": {"A": token-abc123}}}}');
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^not valid JSON: /);
    assert.doesNotMatch(problems[0] ?? "", /abc12/);
  });

  it("refuses a file without mcpServers", () => {
    assert.deepEqual(problemsOf({ servers: {} }), [
      'mcpServers: must be an object of servers: {"mcpServers": {"name": {...}}}',
    ]);
    assert.deepEqual(problemsOf([]), ['(file): must be a JSON object: {"mcpServers": {...}}']);
  });

  it("collects every problem of every server, each with its path", () => {
    const config = {
      mcpServers: {
        s: { type: "sse" },
        t: { type: "carrier-pigeon", url: "http://h" },
        d: { command: "a", disabledTools: "x" },
        "a b": { command: "a" },
        health: { command: "a" },
        docs: { command: "a" },
        e: {},
        u: { url: "ftp://h/x" },
        ok: { command: "fine" },
      },
    };
    assert.deepEqual(problemsOf(config), [
      'mcpServers.s.url: required for type "sse"',
      'mcpServers.t.type: unknown transport type "carrier-pigeon": use stdio, sse or streamable-http',
      "mcpServers.d.disabledTools: must be a list of tool names",
      'mcpServers.a b: a server name must be 1-64 letters, digits, "_" or "-" (it is a URL segment)',
      'mcpServers.health: "health" is reserved for the proxy\'s own routes',
      'mcpServers.docs: "docs" is reserved for the proxy\'s own routes',
      'mcpServers.e: needs "command" (a stdio server) or "url" (an SSE or Streamable HTTP server)',
      "mcpServers.u.url: must be an http(s) URL",
    ]);
  });

  it("warns about unknown keys, at the top, in a server and in connection_settings", () => {
    const config = {
      version: 2,
      connection_settings: { retry_delay: 1, retry_dealy: 5 },
      mcpServers: {
        x: { command: "a", colour: "red", connection_settings: { tool_timout: 1 } },
        r: { url: "http://h/sse", cwd: "/tmp" },
      },
    };
    assert.deepEqual(parse(config).warnings, [
      "version: unknown key, ignored",
      "connection_settings.retry_dealy: unknown key, ignored",
      "mcpServers.x.colour: unknown key, ignored",
      "mcpServers.x.connection_settings.tool_timout: unknown key, ignored",
      "mcpServers.r.cwd: unknown key, ignored",
    ]);
  });
});

describe("formatPath", () => {
  it("joins keys with dots and indexes with brackets", () => {
    assert.equal(formatPath(["a", "b", 0, "c"]), "a.b[0].c");
    assert.equal(formatPath(["mcpServers", "github", "args", 0]), "mcpServers.github.args[0]");
    assert.equal(formatPath(["top"]), "top");
    assert.equal(formatPath([]), "");
  });
});

describe("loadConfigFile", () => {
  it("reads and parses a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcpo-unit-config-"));
    try {
      const file = join(dir, "config.json");
      writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: "run", cwd: "." } } }));
      const { servers } = loadConfigFile(file, noOptions);
      assert.deepEqual(servers[0]?.transport, { type: "stdio", command: "run", args: [], env: {}, cwd: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("throws a ConfigFileError naming ENOENT for a missing file", () => {
    const missing = join(tmpdir(), "mcpo-no-such-dir", "config.json");
    assert.throws(
      () => loadConfigFile(missing, noOptions),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.equal(error.name, "ConfigFileError");
        assert.equal(error.file, missing);
        assert.deepEqual(error.problems, ["cannot read the file (ENOENT)"]);
        assert.match(error.message, /ENOENT/);
        return true;
      },
    );
  });

  it("lists a disabled server whose entry is not valid yet as disabled, with a warning, instead of refusing the file", () => {
    const loaded = parse({
      mcpServers: { later: { url: "${MCPO_UNSET_URL}", disabled: true }, now: { command: "node" } },
    });
    assert.deepEqual(
      loaded.servers.map((s) => [s.name, s.disabled]),
      [
        ["later", true],
        ["now", false],
      ],
    );
    assert.ok(
      loaded.warnings.some((w) => w.startsWith("mcpServers.later.url:") && w.endsWith("(the server is disabled)")),
    );
  });

  it("lets an explicit Authorization header win over auth_token, whatever its case", () => {
    const remote = server(
      { mcpServers: { r: { url: "http://h/sse", auth_token: "t", headers: { authorization: "Basic x" } } } },
      "r",
    );
    assert.deepEqual(remote.transport.type !== "stdio" && remote.transport.headers, { authorization: "Basic x" });
  });

  it("reserves docs, health and openapi.json in any case", () => {
    assert.ok(
      problemsOf({ mcpServers: { Health: { command: "node" } } }).some((p) => p.includes('"Health" is reserved')),
    );
  });
});
