import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildConfig } from "../../../src/cli/build-config.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { ConfigFileError } from "../../../src/config/load-config-file.js";
import { cliOptions } from "../../helpers/cli-options.js";

const dir = mkdtempSync(join(tmpdir(), "mcpo-auth-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(config: unknown): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError || error instanceof ConfigFileError, String(error));
    return error.message;
  }
  return assert.fail("no error");
}

const servers = { a: { command: "node" } };

describe("inbound JWT settings", () => {
  it("are off without a JWT setting: keys only, as before", () => {
    assert.equal(buildConfig(cliOptions(), ["node"], {}).config.http.auth, undefined);
  });

  it("take the secret from MCPO_JWT_SECRET or --jwt-secret-file, and never hand MCPO_JWT_SECRET to stdio servers", () => {
    const fromEnv = buildConfig(cliOptions(), ["node"], { MCPO_JWT_SECRET: "s1", PATH: "/bin" }).config;
    assert.deepEqual(fromEnv.http.auth, {
      openWebUi: { secret: "s1", header: "X-OpenWebUI-User-Jwt" },
      clockSkewSeconds: 30,
      fetchTimeoutMs: 5000,
    });
    assert.deepEqual(fromEnv.baseEnv, { PATH: "/bin" });
    const secretFile = join(dir, "secret");
    writeFileSync(secretFile, "s2\n");
    const fromFile = buildConfig(cliOptions({ jwtSecretFile: secretFile }), ["node"], {}).config.http.auth;
    assert.equal(fromFile?.openWebUi?.secret, "s2");
    assert.match(
      failure(() => buildConfig(cliOptions({ jwtSecretFile: secretFile }), ["node"], { MCPO_JWT_SECRET: "s" })),
      /give the secret once/,
    );
  });

  it("take OIDC flags, the audience repeatable or comma-separated", () => {
    const auth = buildConfig(
      cliOptions({
        oidcIssuer: "https://id.example.com/realms/team",
        oidcAudience: ["a1,a2", "a3"],
        oidcAlgorithms: ["ES256"],
        jwtClockSkew: "5",
        jwksTimeout: "1.5",
      }),
      ["node"],
      {},
    ).config.http.auth;
    assert.deepEqual(auth, {
      oidc: { issuer: "https://id.example.com/realms/team", audience: ["a1", "a2", "a3"], algorithms: ["ES256"] },
      clockSkewSeconds: 5,
      fetchTimeoutMs: 1500,
    });
  });

  it("refuse an issuer without an audience, none or HS* on the JWKS path, and OIDC settings without an issuer", () => {
    assert.match(
      failure(() => buildConfig(cliOptions({ oidcIssuer: "https://id.example.com" }), ["node"], {})),
      /needs oidc_audience \(--oidc-audience\)/,
    );
    for (const alg of ["none", "HS256"]) {
      assert.match(
        failure(() =>
          buildConfig(
            cliOptions({ oidcIssuer: "https://id.example.com", oidcAudience: ["a"], oidcAlgorithms: [alg] }),
            ["node"],
            {},
          ),
        ),
        new RegExp(`--oidc-algorithms: "${alg}" is not accepted`),
      );
    }
    assert.match(
      failure(() => buildConfig(cliOptions({ oidcAudience: ["a"] }), ["node"], {})),
      /need oidc_issuer/,
    );
    assert.match(
      failure(() => buildConfig(cliOptions({ oidcIssuer: "not a url", oidcAudience: ["a"] }), ["node"], {})),
      /--oidc-issuer: must be an http\(s\) URL/,
    );
  });

  it("read the config file's auth block (secret file relative to it), each key overridden by its flag", () => {
    writeFileSync(join(dir, "owui-secret"), "from-file\n");
    const path = file({
      auth: {
        jwt_secret_file: "owui-secret",
        oidc_issuer: "https://id.example.com/",
        oidc_audience: "gw",
        jwt_clock_skew: 10,
      },
      mcpServers: { hr: { command: "node", allow: { roles: ["hr"] } } },
    });
    const config = buildConfig(cliOptions({ config: path, jwtClockSkew: "3" }), [], {}).config;
    assert.equal(config.http.auth?.openWebUi?.secret, "from-file");
    assert.deepEqual(config.http.auth?.oidc?.audience, ["gw"]);
    assert.equal(config.http.auth?.clockSkewSeconds, 3);
    assert.deepEqual(config.servers[0]?.allow, { users: [], roles: ["hr"], groups: [] });
  });

  it("refuse an allow-list without JWT verification, one naming nobody, and a misspelt one", () => {
    assert.match(
      failure(() =>
        buildConfig(
          cliOptions({ config: file({ mcpServers: { a: { command: "node", allow: { users: ["x"] } } } }) }),
          [],
          {},
        ),
      ),
      /mcpServers\.a\.allow: needs JWT verification/,
    );
    const env = { MCPO_JWT_SECRET: "s" };
    assert.match(
      failure(() =>
        buildConfig(cliOptions({ config: file({ mcpServers: { a: { command: "node", allow: {} } } }) }), [], env),
      ),
      /names no users, roles or groups/,
    );
    assert.match(
      failure(() =>
        buildConfig(
          cliOptions({ config: file({ mcpServers: { a: { command: "node", allow: { user: ["x"] } } } }) }),
          [],
          env,
        ),
      ),
      /mcpServers\.a\.allow/,
    );
    assert.match(
      failure(() =>
        buildConfig(
          cliOptions({ config: file({ auth: { oidc_algorithms: ["HS256"] }, mcpServers: servers }) }),
          [],
          {},
        ),
      ),
      /auth\.oidc_algorithms\[0\]: "HS256" is not accepted/,
    );
  });

  it("let --strict-auth stand on a JWT setting without --api-key", () => {
    assert.match(
      failure(() => buildConfig(cliOptions({ strictAuth: true }), ["node"], {})),
      /--strict-auth needs --api-key, or a JWT setting/,
    );
    assert.equal(
      buildConfig(cliOptions({ strictAuth: true }), ["node"], { MCPO_JWT_SECRET: "s" }).config.http.strictAuth,
      true,
    );
  });
});

describe("inbound JWT settings on hot reload", () => {
  it("warn that a changed auth block needs a restart, and check allow-lists again", () => {
    const path = file({ auth: { jwt_secret: "one" }, mcpServers: servers });
    const config = buildConfig(cliOptions({ config: path, hotReload: true }), [], {}).config;
    assert.deepEqual(config.source?.load().warnings, []);
    writeFileSync(path, JSON.stringify({ auth: { jwt_secret: "two" }, mcpServers: servers }));
    const warnings = config.source?.load().warnings ?? [];
    assert.deepEqual(warnings, ["auth: changed, but applies only after a restart"]);
    assert.ok(!warnings.join().includes("two"));
    writeFileSync(path, JSON.stringify({ mcpServers: { a: { command: "node", allow: { users: ["x"] } } } }));
    // JWT verification is on (from the start), so a new allow-list is fine.
    assert.deepEqual(config.source?.load().servers[0]?.allow?.users, ["x"]);
  });
});

describe("a short JWT secret", () => {
  it("is taken, with a warning that does not quote it", () => {
    const short = buildConfig(cliOptions(), ["node"], { MCPO_JWT_SECRET: "t0p-s3cr3t" });
    assert.equal(short.config.http.auth?.openWebUi?.secret, "t0p-s3cr3t");
    assert.equal(short.warnings.length, 1);
    assert.match(short.warnings[0]!, /shorter than 32 bytes/);
    assert.ok(!short.warnings[0]!.includes("t0p-s3cr3t"));
    assert.deepEqual(buildConfig(cliOptions(), ["node"], { MCPO_JWT_SECRET: "x".repeat(32) }).warnings, []);
  });
});
