import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildConfig } from "../../../src/cli/build-config.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { cliOptions } from "../../helpers/cli-options.js";

const options = cliOptions;

/** The UsageError message `fn` throws. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  return assert.fail("no UsageError");
}

describe("buildConfig: secrets", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-build-config-secrets-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("never hands MCPO_API_KEY to stdio servers (single and config mode)", () => {
    const env = { PATH: "/bin", MCPO_API_KEY: "k" };
    const single = buildConfig(options({ apiKey: "k" }), ["node"], env).config;
    assert.deepEqual(single.baseEnv, { PATH: "/bin" });
    assert.equal(single.http.apiKey, "k");
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: "node" } } }));
    assert.deepEqual(buildConfig(options({ config: file }), [], env).config.baseEnv, { PATH: "/bin" });
  });

  it("reads --api-key-file once, dropping its trailing line break; refuses it empty, unreadable or beside --api-key", () => {
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, "file-key\r\n");
    assert.equal(buildConfig(options({ apiKeyFile: keyFile }), ["node"], {}).config.http.apiKey, "file-key");
    writeFileSync(join(dir, "empty"), "\n");
    assert.match(
      usage(() => buildConfig(options({ apiKeyFile: join(dir, "empty") }), ["node"], {})),
      /is empty$/,
    );
    assert.match(
      usage(() => buildConfig(options({ apiKeyFile: join(dir, "none") }), ["node"], {})),
      /^--api-key-file: cannot read .* \(ENOENT\)$/,
    );
    assert.equal(
      usage(() => buildConfig(options({ apiKey: "k", apiKeyFile: keyFile }), ["node"], {})),
      "--api-key-file: give the key once: --api-key (or MCPO_API_KEY) or --api-key-file",
    );
  });

  it("refuses a NUL in --env and --env-path, and bad --header values, naming the key without the value", () => {
    assert.equal(
      usage(() => buildConfig(options({ env: ["TOKEN=sec\0ret"] }), ["node"], {})),
      '--env: the value of "TOKEN" has a NUL character',
    );
    writeFileSync(join(dir, "nul.env"), "TOKEN=sec\0ret\n");
    assert.equal(
      usage(() => buildConfig(options({ envPath: join(dir, "nul.env") }), ["node"], {})),
      '--env-path: the value of "TOKEN" has a NUL character',
    );
    const remote = (header: Record<string, string>) => () =>
      buildConfig(options({ serverType: "streamable-http", header: JSON.stringify(header) }), ["http://h/mcp"], {});
    assert.equal(
      usage(remote({ "X-Key": "sec\nret" })),
      '--header: the value of header "X-Key" has a line break (CR or LF)',
    );
  });

  it("sends URL credentials as Basic auth, stripped from the URL; refuses them beside an Authorization --header", () => {
    const transport = buildConfig(options({ serverType: "sse" }), ["http://user:secret@h/sse?k=v"], {}).config
      .servers[0]?.transport;
    assert.deepEqual(transport, {
      type: "sse",
      url: "http://h/sse?k=v",
      headers: { Authorization: `Basic ${Buffer.from("user:secret").toString("base64")}` },
    });
    const message = usage(() =>
      buildConfig(
        options({ serverType: "sse", header: '{"Authorization": "Bearer t"}' }),
        ["http://user:secret@h/sse"],
        {},
      ),
    );
    assert.match(message, /^the upstream URL has credentials/);
    assert.ok(!message.includes("secret"));
  });
});
