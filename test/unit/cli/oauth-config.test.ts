import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { selectServer } from "../../../src/cli/auth-command.js";
import { buildConfig } from "../../../src/cli/build-config.js";
import type { CliOptions } from "../../../src/cli/program.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { ConfigFileError } from "../../../src/config/load-config-file.js";
import type { OAuthSettings } from "../../../src/config/schema.js";
import { cliOptions } from "../../helpers/cli-options.js";

const URL_ = "https://mcp.example.com/mcp";
const remote = { serverType: "streamable-http" } as const;

function oauthOf(extra: Partial<CliOptions>, env: NodeJS.ProcessEnv = {}): OAuthSettings | undefined {
  const transport = buildConfig(cliOptions({ ...remote, ...extra }), [URL_], env).config.servers[0]!.transport;
  return transport.type === "stdio" ? undefined : transport.oauth;
}

function throwsUsage(fn: () => unknown, prefix: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.ok(error.message.startsWith(prefix), `${JSON.stringify(error.message)} should start with ${prefix}`);
    return true;
  });
}

describe("OAuth settings: single-server flags", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-oauth-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = join(dir, "secret");
  writeFileSync(secret, "s3cret\n");

  it("--oauth turns OAuth on with the defaults (authorization code, port 33418, the XDG state folder)", () => {
    assert.equal(oauthOf({}), undefined);
    const oauth = oauthOf({ oauth: true }, { XDG_STATE_HOME: "/state" });
    assert.equal(oauth?.grant, "authorization_code");
    assert.equal(oauth?.redirectPort, 33418);
    assert.equal(oauth?.clientName, "mcpo-ts");
    assert.equal(oauth?.tokenDir, "/state/mcpo-ts/oauth");
    assert.equal(oauthOf({ oauth: true })?.tokenDir, join(homedir(), ".local/state/mcpo-ts/oauth"));
  });

  it("--token-dir, else MCPO_TOKEN_DIR, chooses the token directory", () => {
    assert.equal(oauthOf({ oauth: true }, { MCPO_TOKEN_DIR: "/env-dir" })?.tokenDir, "/env-dir");
    assert.equal(
      oauthOf({ oauth: true, tokenDir: "/flag-dir" }, { MCPO_TOKEN_DIR: "/env-dir" })?.tokenDir,
      "/flag-dir",
    );
  });

  it("any --oauth-* flag turns OAuth on; secrets come from a file or MCPO_OAUTH_CLIENT_SECRET", () => {
    const oauth = oauthOf({ oauthClientId: "abc", oauthClientSecretFile: secret, oauthScope: "read write" });
    assert.equal(oauth?.clientId, "abc");
    assert.equal(oauth?.clientSecret, "s3cret");
    assert.equal(oauth?.scope, "read write");
    assert.equal(oauthOf({ oauthClientId: "abc" }, { MCPO_OAUTH_CLIENT_SECRET: "from-env" })?.clientSecret, "from-env");
  });

  it("never hands MCPO_OAUTH_CLIENT_SECRET to a stdio server", () => {
    const { config } = buildConfig(cliOptions(), ["node", "server.js"], {
      MCPO_OAUTH_CLIENT_SECRET: "x",
      PATH: "/bin",
    });
    assert.equal(config.baseEnv.MCPO_OAUTH_CLIENT_SECRET, undefined);
    assert.equal(config.baseEnv.PATH, "/bin");
  });

  it("names the login command, flags and all, without the URL's secrets", () => {
    const oauth = oauthOf({ oauth: true, oauthClientId: "abc" });
    assert.equal(oauth?.loginCommand, `mcpo auth --oauth-client-id abc --server-type streamable-http -- ${URL_}`);
    const withQuery = buildConfig(cliOptions({ ...remote, oauth: true }), [`${URL_}?key=secret`], {}).config.servers[0]!
      .transport;
    assert.ok(withQuery.type !== "stdio" && !withQuery.oauth?.loginCommand.includes("secret"));
  });

  it("refuses OAuth on stdio, in config mode, and wrong values, naming the flag", () => {
    throwsUsage(() => buildConfig(cliOptions({ oauth: true }), ["node", "s.js"], {}), "--oauth: OAuth is for sse");
    throwsUsage(() => oauthOf({ oauthGrant: "password" }), "--oauth-grant: must be one of");
    throwsUsage(() => oauthOf({ oauthTokenAuthMethod: "magic" }), "--oauth-token-auth-method: must be one of");
    throwsUsage(() => oauthOf({ oauthRedirectPort: "70000" }), "--oauth-redirect-port:");
    throwsUsage(() => oauthOf({ oauthClientMetadataUrl: "http://x.example/c.json" }), "--oauth-client-metadata-url:");
    throwsUsage(
      () => oauthOf({ oauthClientSecretFile: join(dir, "missing") }),
      "--oauth-client-secret-file: cannot read",
    );
    throwsUsage(
      () => oauthOf({ oauthGrant: "client_credentials" }),
      "--oauth-client-id: grant client_credentials needs",
    );
    throwsUsage(
      () => oauthOf({ oauthTokenAuthMethod: "private_key_jwt", oauthClientId: "a" }),
      "--oauth-private-key-file: token_endpoint_auth_method private_key_jwt needs",
    );
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ mcpServers: {} }));
    throwsUsage(
      () => buildConfig(cliOptions({ config: file, oauth: true }), [], {}),
      "--oauth and the --oauth-* flags",
    );
  });
});

describe("OAuth settings: the config file's oauth block", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-oauth-file-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (servers: Record<string, unknown>, extra: Partial<CliOptions> = {}, env: NodeJS.ProcessEnv = {}) => {
    const file = join(dir, "servers.json");
    writeFileSync(file, JSON.stringify({ mcpServers: servers }));
    return { file, built: () => buildConfig(cliOptions({ config: file, ...extra }), [], env) };
  };

  it("resolves the block, with ${ENV} values and secret files next to the config file", () => {
    writeFileSync(join(dir, "gh-secret"), "file-secret");
    const { file, built } = load(
      {
        gh: {
          type: "streamable-http",
          url: URL_,
          oauth: { client_id: "${GH_CLIENT}", client_secret_file: "gh-secret", redirect_port: 0 },
        },
      },
      { tokenDir: "/tokens" },
      { GH_CLIENT: "client-1" },
    );
    const transport = built().config.servers[0]!.transport;
    assert.ok(transport.type !== "stdio");
    assert.equal(transport.oauth?.clientId, "client-1");
    assert.equal(transport.oauth?.clientSecret, "file-secret");
    assert.equal(transport.oauth?.redirectPort, 0);
    assert.equal(transport.oauth?.loginCommand, `mcpo auth gh --config ${file} --token-dir /tokens`);
  });

  it("refuses an oauth block on a stdio server and bad keys, each with its path", () => {
    const { built } = load({
      local: { command: "node", oauth: {} },
      remote: { type: "sse", url: URL_, oauth: { grant: "implicit" } },
    });
    assert.throws(built, (error: unknown) => {
      assert.ok(error instanceof ConfigFileError);
      assert.match(error.message, /mcpServers\.local\.oauth: OAuth is for sse and streamable-http servers/);
      assert.match(error.message, /mcpServers\.remote\.oauth\.grant: must be one of/);
      return true;
    });
  });

  it("mcpo auth picks the server by name, or the only one with an oauth block", () => {
    const { file } = load({
      gh: { type: "streamable-http", url: URL_, oauth: {} },
      plain: { type: "streamable-http", url: URL_ },
    });
    assert.equal(selectServer(cliOptions({ config: file }), [], {}).name, "gh");
    assert.equal(selectServer(cliOptions({ config: file }), ["gh"], {}).name, "gh");
    assert.throws(() => selectServer(cliOptions({ config: file }), ["plain"], {}), /has no "oauth" block/);
    assert.throws(() => selectServer(cliOptions({ config: file }), ["nope"], {}), /no server "nope"/);
  });
});
