/**
 * Shared by the upstream OAuth end-to-end tests (oauth.test.ts, oauth-security.test.ts): a fixture per test,
 * a config file and token directory, the checks every test makes on mcpo auth and the proxy.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startOAuthFixture,
  type OAuthFixture,
  type OAuthFixtureOptions,
  type RecordedRequest,
} from "../fixtures/oauth/index.js";
import { configFile } from "./config-file.js";
import { logIn, type LoginOptions, type LoginResult } from "./oauth-login.js";
import { stopAll } from "./processes.js";
import { startProxy, waitForHealth, type Answer, type Proxy } from "./proxy.js";
import { waitFor } from "./wait.js";

export type Json = Record<string, any>;

const stoppers: (() => Promise<void>)[] = [];

/** Stops every process and fixture the OAuth tests started (for after() hooks). */
export async function stopOAuth(): Promise<void> {
  await stopAll();
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
}

/** Has stopOAuth() stop this too. */
export function track(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

/** Starts the OAuth fixture, stopped by stopOAuth(). */
export async function fixture(options?: OAuthFixtureOptions): Promise<OAuthFixture> {
  const started = await startOAuthFixture(options);
  stoppers.push(() => started.stop());
  return started;
}

/** A token directory that does not exist yet (the CLI creates it, 0700). */
export const newTokenDir = (): string => join(mkdtempSync(join(tmpdir(), "mcpo-oauth-")), "tokens");

/** Requests to the fixture's /token endpoint with this grant type. */
export const tokenRequests = (f: OAuthFixture, grant: string): RecordedRequest[] =>
  f.as.requests.filter((r) => r.endpoint === "token" && r.grantType === grant);

export const authorizeRequests = (f: OAuthFixture): RecordedRequest[] =>
  f.as.requests.filter((r) => r.endpoint === "authorize");

/** Options for a login that is expected to fail: do not wait five minutes for a browser. */
export const FAILING = ["--timeout", "5"];

export interface Setup {
  fixture: OAuthFixture;
  config: { path: string };
  dir: string;
  /** The command the proxy's messages must name. */
  command: string;
  login(options?: LoginOptions, extra?: string[]): Promise<LoginResult>;
  proxy(extra?: string[]): Promise<Proxy>;
}

/** One fixture, a config file with one server `notes` behind OAuth, a fresh token directory. */
export async function setUp(options: OAuthFixtureOptions = {}, oauth: Json = { redirect_port: 0 }): Promise<Setup> {
  const f = await fixture(options);
  const config = configFile({ mcpServers: { notes: { type: "streamable-http", url: f.rs.url, oauth } } });
  const dir = newTokenDir();
  return {
    fixture: f,
    config,
    dir,
    command: `mcpo auth notes --config ${config.path}`,
    login: (login, extra = []) => logIn(["notes", "--config", config.path, "--token-dir", dir, ...extra], login),
    proxy: (extra = []) => startProxy(["--config", config.path, "--token-dir", dir, ...extra], []),
  };
}

export function loggedIn(result: LoginResult): asserts result is LoginResult & { authorizeUrl: URL } {
  assert.equal(result.code, 0, `mcpo auth failed (${result.code}): ${result.stdout}${result.stderr}`);
  assert.ok(result.authorizeUrl, "mcpo auth printed no URL");
}

export function refusedLogin(result: LoginResult): void {
  assert.notEqual(result.code, 0, `mcpo auth succeeded: ${result.stdout}`);
  assert.doesNotMatch(result.stderr, /unknown option|too many arguments/i, "refused for the wrong reason");
}

export function assertLoginRequired(answer: Answer, command: string): void {
  assert.equal(answer.status, 503, answer.text);
  const detail = (answer.body as Json).detail as Json;
  assert.equal(detail.code, "login_required", answer.text);
  assert.ok(String(detail.message).includes(command), `the message names ${command}: ${detail.message}`);
}

/** Calls until the answer has `status` (the proxy picks up a new login by itself, promptly). */
export async function until(
  proxy: Proxy,
  path: string,
  body: unknown,
  status: number,
  timeoutMs = 10_000,
): Promise<Answer> {
  let last: Answer | undefined;
  try {
    return await waitFor(
      `${path} to answer ${status}`,
      async () => {
        last = await proxy.post(path, body);
        return last.status === status ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    throw new Error(`${String(error)}; last answer ${last?.status} ${last?.text}`);
  }
}

/**
 * From now on access tokens live 1 s, and the ones issued so far are retired: the proxy's next call meets a 401,
 * refreshes, and holds a token that expires while the test waits a little. (Logging in with 1 s tokens is a test
 * of its own: a slow machine could otherwise fail every test that only means to test expiry.)
 */
export function shortLived(f: OAuthFixture): void {
  f.as.settings.accessTokenLifetime = 1;
  f.as.revokeAccessTokens();
}

/** Waits for /health 200; on failure says what the proxy logged. */
export async function healthy(proxy: Proxy, timeoutMs = 20_000): Promise<void> {
  try {
    await waitForHealth(proxy, 200, timeoutMs);
  } catch (error) {
    const health = await proxy.get("/health").catch(() => undefined);
    throw new Error(`${String(error)}\nhealth: ${health?.text}\nproxy stderr:\n${proxy.process.stderr().slice(-3000)}`);
  }
}

export const serverHealth = async (proxy: Proxy, name = "notes"): Promise<Json> =>
  ((await proxy.get("/health")).body as Json).servers[name] as Json;

/** A tool's JSON text result (the proxy may hand it on parsed). */
export const json = (answer: Answer): unknown =>
  typeof answer.body === "string" ? (JSON.parse(answer.body) as unknown) : answer.body;

/** Fails when `text` holds any secret, whole or its first 12 characters. */
export function assertNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a secret (${secret.length} chars) appears in the output`);
    if (secret.length >= 20) {
      assert.ok(!text.includes(secret.slice(0, 12)), "the start of a secret appears in the output");
    }
  }
}
