import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
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
});
