import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { freePort } from "../helpers/ports.js";
import { run, stopAll, type Running } from "../helpers/processes.js";
import { CLI, startProxy, waitForHealth } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const [command, ...args] = FIXTURE_STDIO;
const dir = mkdtempSync(join(tmpdir(), "mcpo-hardening-config-"));
const BASIC_AUTH_FIXTURE = fileURLToPath(new URL("../fixtures/secrets/basic-auth-http.ts", import.meta.url));
/** Fast retries, so an upstream started late is found within a second. */
const FAST = ["--retry-delay", "0.2", "--max-retry-delay", "0.5"];

/** Runs the CLI to its exit (a refused configuration): its exit code and stderr. */
async function refused(cliArgs: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = run(process.execPath, [CLI, "--host", "127.0.0.1", "--port", "0", ...cliArgs]);
  const code = await waitFor("the CLI to exit", () => child.child.exitCode ?? undefined, 20_000);
  return { code, stderr: child.stderr() };
}

/** The fixture's tools behind HTTP Basic auth (user:secret) on a given port. */
async function startBasicAuthUpstream(port: number): Promise<Running> {
  const child = run(process.execPath, ["--import", "tsx", BASIC_AUTH_FIXTURE, String(port), "user:secret"]);
  await waitFor("the upstream to listen", () => {
    if (child.child.exitCode !== null) throw new Error(`upstream exited: ${child.stderr()}`);
    return /listening \d+/.test(child.stdout());
  });
  return child;
}

const write = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe("bad configuration values are refused when loaded, naming the key, never printing the value", () => {
  after(stopAll);

  it("refuses --header values fetch would refuse (line break, non-Latin-1) and invalid header names", async () => {
    for (const [header, expected] of [
      [{ "X-Token": "secret\r\nX-Evil: 1" }, '--header: the value of header "X-Token" has a line break (CR or LF)'],
      [{ "X-Token": "secret€" }, '--header: the value of header "X-Token" has a character outside Latin-1'],
      [{ "X Token": "secret" }, '--header: "X Token" is not a valid header name'],
    ] as const) {
      const { code, stderr } = await refused([
        "--header",
        JSON.stringify(header),
        "--server-type",
        "streamable-http",
        "--",
        "http://127.0.0.1:9/mcp",
      ]);
      assert.equal(code, 2);
      assert.ok(stderr.includes(expected), stderr);
      assert.ok(!stderr.includes("secret"), stderr);
    }
  });

  it("refuses a NUL in a value of --env-path", async () => {
    const envPath = write("nul.env", "TOKEN=sec\0ret\n");
    const { code, stderr } = await refused(["--env-path", envPath, "--", ...FIXTURE_STDIO]);
    assert.equal(code, 2);
    assert.match(stderr, /--env-path: the value of "TOKEN" has a NUL character/);
    assert.ok(!stderr.includes("sec"), stderr);
  });

  it("refuses a config file with a bad header value, auth_token, header name or env value, listing each", async () => {
    const config = configFile({
      mcpServers: {
        remote: { type: "streamable-http", url: "http://127.0.0.1:9/mcp", headers: { "X-Key": "secret\n" } },
        token: { type: "streamable-http", url: "http://127.0.0.1:9/mcp", auth_token: "secret\u0100" },
        named: { type: "sse", url: "http://127.0.0.1:9/sse", headers: { "Bad:Name": "x" } },
        local: { command, args, env: { TOKEN: "secret\u0000" } },
      },
    });
    const { code, stderr } = await refused(["--config", config.path]);
    assert.equal(code, 2);
    for (const problem of [
      'mcpServers.remote.headers: the value of header "X-Key" has a line break (CR or LF)',
      "mcpServers.token.auth_token: has a character outside Latin-1",
      'mcpServers.named.headers: "Bad:Name" is not a valid header name',
      'mcpServers.local.env: the value of "TOKEN" has a NUL character',
    ]) {
      assert.ok(stderr.includes(problem), `${problem} in ${stderr}`);
    }
    assert.ok(!stderr.includes("secret"), stderr);
  });

  it("keeps the running config when a hot reload brings a bad header value, and logs why without the value", async () => {
    const config = configFile({ mcpServers: { local: { command, args } } });
    const proxy = await startProxy(["--config", config.path, "--hot-reload"], []);
    await waitForHealth(proxy, 200);
    config.write({
      mcpServers: {
        local: { command, args },
        remote: { type: "streamable-http", url: "http://127.0.0.1:9/mcp", headers: { "X-Key": "secret\r\n" } },
      },
    });
    const line = await proxy.waitForLog("the refused reload", (entry) =>
      String(entry.msg).includes("invalid; keeping the running config"),
    );
    assert.deepEqual(line.problems, [
      'mcpServers.remote.headers: the value of header "X-Key" has a line break (CR or LF)',
    ]);
    assert.equal((await proxy.post("/local/echo-args", { a: 1 })).status, 200);
    assert.equal((await proxy.get("/remote/openapi.json")).status, 404);
    assert.ok(!proxy.process.stderr().includes("secret"));
    await proxy.stop();
  });
});

describe("secrets are never shown: URL credentials and query values", () => {
  after(stopAll);

  it("keeps user:secret@ and ?token=secret123 out of /health, 503 bodies and the whole log, upstream down then up; the credentials reach the upstream as Basic auth", async () => {
    const port = await freePort();
    const url = `http://user:secret@127.0.0.1:${port}/mcp?token=secret123`;
    const proxy = await startProxy(
      // A short connection timeout: calls wait for a reconnect up to it before their 503.
      [
        "--server-type",
        "streamable-http",
        "--retry-attempts",
        "-1",
        "--connection-timeout",
        "2",
        "--log-level",
        "debug",
        ...FAST,
      ],
      [url],
    );
    // Down: every answer that explains why must stay clean.
    await waitFor("a failed attempt", () =>
      proxy
        .logs()
        .some((line) => line.msg === "connection attempt to StreamableHTTP-http://127.0.0.1:" + port + "/mcp failed"),
    );
    const health = await proxy.get("/health");
    assert.equal(health.status, 503);
    assert.equal((health.body as Json).details.state, "connecting");
    assert.ok(!health.text.includes("secret"), health.text);
    const call = await proxy.post("/echo-args", { a: 1 });
    assert.equal(call.status, 503);
    assert.equal((call.body as Json).detail.code, "upstream_unavailable");
    assert.ok(!call.text.includes("secret"), call.text);

    // Up: connected with the credentials as an Authorization: Basic header (the fixture answers 401 without).
    const upstream = await startBasicAuthUpstream(port);
    const ready = await waitForHealth(proxy, 200);
    assert.ok(!ready.text.includes("secret"), ready.text);
    const answer = await proxy.post("/echo-args", { a: 1 });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { a: 1 });

    // Down again (a 503 while reconnecting), then the whole log.
    await upstream.stop();
    const lost = await waitFor("a failed call once the upstream is gone", async () => {
      const attempt = await proxy.post("/echo-args", { a: 1 });
      return attempt.status >= 500 ? attempt : undefined;
    });
    assert.ok(!lost.text.includes("secret"), lost.text);
    await proxy.stop();
    const stderr = proxy.process.stderr();
    assert.ok(stderr.includes("token=redacted") || !stderr.includes("token="), "query values are redacted");
    assert.ok(!stderr.includes("secret"), stderr);
  });
});

describe("the proxy's own API key", () => {
  after(stopAll);

  it("never passes MCPO_API_KEY on to a stdio server", async () => {
    process.env.MCPO_API_KEY = "proxy-key-123";
    try {
      const proxy = await startProxy([], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const auth = { authorization: "Bearer proxy-key-123" };
      assert.equal((await proxy.post("/env", { name: "MCPO_API_KEY" })).status, 401);
      const seen = await proxy.post("/env", { name: "MCPO_API_KEY" }, auth);
      assert.equal(seen.status, 200);
      assert.equal(seen.body, "");
      await proxy.stop();
    } finally {
      delete process.env.MCPO_API_KEY;
    }
  });

  it("reads the key from --api-key-file (its trailing newline dropped), and refuses it beside --api-key", async () => {
    const keyFile = write("api-key", "file-key-456\n");
    const proxy = await startProxy(["--api-key-file", keyFile], FIXTURE_STDIO);
    await waitForHealth(proxy, 200);
    const missing = await proxy.post("/echo-args", { a: 1 });
    assert.equal(missing.status, 401);
    assert.equal((missing.body as Json).detail.code, "unauthorized");
    const ok = await proxy.post("/echo-args", { a: 1 }, { authorization: "Bearer file-key-456" });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { a: 1 });
    await proxy.stop();

    const both = await refused(["--api-key", "x", "--api-key-file", keyFile, "--", ...FIXTURE_STDIO]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--api-key-file: give the key once/);
    assert.ok(!both.stderr.includes("file-key-456"));
  });
});

describe("/openapi.json waits for the first tool list", () => {
  after(stopAll);

  it("answers 503 with Retry-After while the upstream connects, then the document with its tools", async () => {
    const port = await freePort();
    const proxy = await startProxy(
      ["--server-type", "streamable-http", "--retry-attempts", "-1", ...FAST],
      [`http://user:secret@127.0.0.1:${port}/mcp`],
    );
    const early = await proxy.get("/openapi.json");
    assert.equal(early.status, 503);
    assert.equal(early.headers.get("retry-after"), "1");
    assert.equal((early.body as Json).detail.code, "upstream_unavailable");
    assert.match(
      (early.body as Json).detail.message,
      /the OpenAPI document is not ready: the tool list of .* is not known yet/,
    );

    const upstream = await startBasicAuthUpstream(port);
    await waitForHealth(proxy, 200);
    const doc = await proxy.get("/openapi.json");
    assert.equal(doc.status, 200);
    assert.ok((doc.body as Json).paths["/echo-args"], "the tools are in the document");
    await upstream.stop();
    await proxy.stop();
  });

  it("the aggregated document waits for each enabled server's first outcome, and leaves failed ones out with a note", async () => {
    const latePort = await freePort();
    const gonePort = await freePort();
    const config = configFile({
      mcpServers: {
        local: { command, args },
        late: { type: "streamable-http", url: `http://user:secret@127.0.0.1:${latePort}/mcp` },
        gone: {
          type: "streamable-http",
          url: `http://127.0.0.1:${gonePort}/mcp`,
          connection_settings: { retry_attempts: 1 },
        },
        off: { disabled: true, command, args },
      },
      connection_settings: { retry_attempts: -1, retry_delay: 0.2, max_retry_delay: 0.5 },
    });
    const proxy = await startProxy(["--config", config.path], []);
    await waitFor("local ready", async () => (await proxy.get("/local/health")).status === 200);
    const own = await proxy.get("/local/openapi.json");
    assert.equal(own.status, 200, "a server's own document does not wait for the others");
    const waiting = await proxy.get("/openapi.json");
    assert.equal(waiting.status, 503);
    assert.ok(waiting.headers.get("retry-after"));
    assert.match((waiting.body as Json).detail.message, /the aggregated OpenAPI document is not ready/);

    const upstream = await startBasicAuthUpstream(latePort);
    const doc = await waitFor("the aggregated document", async () => {
      const answer = await proxy.get("/openapi.json");
      return answer.status === 200 ? (answer.body as Json) : undefined;
    });
    assert.ok(doc.paths["/local/echo-args"]);
    assert.ok(doc.paths["/late/echo-args"]);
    assert.ok(!Object.keys(doc.paths).some((path) => path.startsWith("/gone/") || path.startsWith("/off/")));
    assert.match(doc.info.description, /Not in this document, as they did not connect .*: gone\./);
    await upstream.stop();
    await proxy.stop();
  });
});
