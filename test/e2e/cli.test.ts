import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { CLI } from "../helpers/proxy.js";

function mcpo(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 10_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("command line", () => {
  it("explains every flag in --help and exits 0", () => {
    const { code, stdout } = mcpo("--help");
    assert.equal(code, 0);
    for (const flag of [
      "--host",
      "--port",
      "--server-type",
      "--header",
      "--api-key",
      "--strict-auth",
      "--cors-allow-origins",
      "--name",
      "--description",
      "--version",
      "--log-level",
      "--env",
      "--env-path",
      "--root-path",
      "--ssl-certfile",
      "--ssl-keyfile",
      "--connection-timeout",
      "--retry-attempts",
      "--retry-delay",
      "--sse-read-timeout",
      "--tool-timeout",
      "--max-body-size",
    ]) {
      assert.ok(stdout.includes(flag), `--help mentions ${flag}`);
    }
  });

  const usageErrors: [string, string[], RegExp][] = [
    ["an unknown flag", ["--bogus", "--", "x"], /unknown option '--bogus'/],
    [
      "bad --header JSON",
      ["--type", "sse", "--header", "{nope", "--", "http://127.0.0.1:1/sse"],
      /--header: is not valid JSON/,
    ],
    [
      "a --header that is not an object of strings",
      ["--type", "sse", "--header", "[1]", "--", "http://127.0.0.1:1/sse"],
      /--header: must be a JSON object/,
    ],
    ["a missing command", [], /missing the server command/],
    ["a missing URL", ["--type", "sse"], /takes exactly one URL/],
    ["a URL that is not http(s)", ["--type", "streamable-http", "--", "ftp://x"], /not an http\(s\) URL/],
    [
      "an unknown server type",
      ["--type", "carrier-pigeon", "--", "x"],
      /--server-type: unknown server type "carrier-pigeon"/,
    ],
    ["a bad port", ["--port", "eighty", "--", "x"], /--port:/],
    ["a bad --env", ["--env", "NOEQUALS", "--", "x"], /--env: expected KEY=VALUE/],
    ["a missing --env-path file", ["--env-path", "/nonexistent/.env", "--", "x"], /--env-path: cannot read/],
    ["--strict-auth without a key", ["--strict-auth", "--", "x"], /--strict-auth needs --api-key/],
    ["a negative timeout", ["--tool-timeout", "-1", "--", "x"], /--tool-timeout:/],
    ["an unknown protocol", ["--protocol", "newest", "--", "x"], /--protocol: unknown protocol "newest"/],
    [
      "a 2025 pin",
      ["--protocol", "2025-06-18", "--", "x"],
      /--protocol: a pinned revision must be 2026-07-28 or later/,
    ],
    [
      "a pin over legacy SSE",
      ["--type", "sse", "--protocol", "2026-07-28", "--", "http://127.0.0.1:9/sse"],
      /--protocol: protocol 2026-07-28 cannot be spoken over legacy SSE/,
    ],
    [
      "an unknown elicitation policy",
      ["--elicitation", "ask", "--", "x"],
      /--elicitation: unknown elicitation policy "ask"/,
    ],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`rejects ${what} with one line and exit code 2`, () => {
      const { code, stderr } = mcpo(...args);
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split("\n").length, 1, `one line, got: ${stderr}`);
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    });
  }

  it("exits 1 with the reason when the port is taken, leaving no server process", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = String((blocker.address() as { port: number }).port);
    const marker = `marker-${process.pid}-${Date.now()}`; // the fixture ignores it; pgrep finds it
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // Asynchronous spawn: the blocker must keep serving while the CLI runs.
      const child = spawn(process.execPath, [
        CLI,
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--",
        ...FIXTURE_STDIO,
        marker,
      ]);
      let err = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
      const hang = setTimeout(() => child.kill("SIGKILL"), 10_000); // a hang fails the test, not CI
      child.on("exit", (exitCode) => {
        clearTimeout(hang);
        resolve({ code: exitCode, stderr: err });
      });
    });
    blocker.close();
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
    assert.equal(spawnSync("pgrep", ["-f", marker]).status, 1, "no process still runs the fixture");
  });
});
