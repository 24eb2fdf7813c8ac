/**
 * The client under test for `conformance client --command "... adapter.ts"`: the runner starts a scenario's
 * mock MCP server and runs `adapter.ts <serverUrl>` with MCP_CONFORMANCE_SCENARIO (and, for some scenarios,
 * MCP_CONFORMANCE_CONTEXT). We start mcpo-ts (the built CLI, on this Node) against that URL over Streamable
 * HTTP, wait until it is connected, do the scenario's calls through its REST API only, stop it, and exit 0
 * only if every answer was as expected. All MCP traffic the mock sees comes from the proxy.
 *
 * Bounded: the runner kills a client after 30 s, so everything here must be over within DEADLINE_MS, and the
 * proxy is stopped on every way out (success, failure, deadline, SIGTERM/SIGINT from the runner).
 */
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { AUTH_SCENARIOS, isLoginRequired, runAuthScenario } from "./auth-scenarios.js";
import { oauthSetup, playHuman, type AuthContext, type OAuthSetup } from "./oauth-login.js";
import { restApi } from "./rest-api.js";
import { SCENARIOS, type ScenarioContext } from "./scenarios.js";

/** Time for the whole adapter run, proxy start and stop included: under the runner's 30 s. */
const DEADLINE_MS = 25_000;
/** Time the proxy gets to shut down after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;
const POLL_MS = 50;

let proxy: Proxy | undefined;
let oauth: OAuthSetup | undefined;
const started = Date.now();

async function main(): Promise<void> {
  const [serverUrl] = process.argv.slice(2);
  const name = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
  if (!serverUrl) throw new Error("usage: adapter.ts <serverUrl> (with MCP_CONFORMANCE_SCENARIO set)");
  if (name.startsWith("auth/")) return authMain(name, serverUrl);
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`no REST scenario for "${name}" in test/conformance/scenarios.ts`);
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}") as ScenarioContext;

  proxy = await startProxy(["--server-type", "streamable-http"], [serverUrl]);
  await waitUntilConnected(proxy);
  await scenario(restApi(proxy), context);
}

/**
 * An `auth/*` scenario: the human logs in with `mcpo auth` (authorization code), the proxy starts with the same
 * token directory, and the scenario's calls go through it; a 503 login_required (a step-up) sends the human
 * back to `mcpo auth`, a bounded number of times.
 */
async function authMain(name: string, serverUrl: string): Promise<void> {
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}") as AuthContext;
  const setup = oauthSetup(name, context);
  oauth = setup;
  let logins = 0;
  /** Everything a user could read: mcpo auth's output, the proxy's log, /health, /openapi.json. */
  const seen: string[] = [];
  const login = async (): Promise<void> => {
    if (++logins > MAX_LOGINS) throw new Error(`still login_required after ${MAX_LOGINS} logins`);
    const left = DEADLINE_MS - (Date.now() - started) - STOP_GRACE_MS;
    const result = await playHuman(setup.flags, serverUrl, Math.max(1000, left));
    process.stderr.write(`--- mcpo auth (exit ${result.code}) ---\n${result.stdout}${result.stderr}`);
    seen.push(result.stdout, result.stderr);
    if (result.code !== 0) throw new Error(`mcpo auth exited ${result.code}`);
    lastLoginAt = Date.now();
  };
  if (setup.needsHuman) await login();
  // At debug level: no token may show at any level.
  proxy = await startProxy(
    [...setup.flags, "--server-type", "streamable-http", "--retry-delay", "0.2", "--log-level", "debug"],
    [serverUrl],
  );
  const running = proxy;
  await waitUntilConnected(running, setup.needsHuman ? login : undefined);
  const scenario = AUTH_SCENARIOS[name] ?? AUTH_SCENARIOS.default!;
  await runAuthScenario(scenario, running, async (answer) => {
    if (!setup.needsHuman || !isLoginRequired(answer)) return false;
    await login();
    await waitUntilConnected(running, login);
    return true;
  });
  // What a user could see: the proxy's log, its health, and what mcpo auth printed. No token or secret in any.
  seen.push(running.process.stderr(), (await running.get("/health")).text, (await running.get("/openapi.json")).text);
  const secrets = setup.secrets();
  if (secrets.length === 0) throw new Error("no token was stored: nothing to look for in the logs");
  const leaked = secrets.filter((secret) => seen.some((text) => text.includes(secret)));
  if (leaked.length > 0)
    throw new Error(`${leaked.length} token(s) or secret(s) showed in a log, /health or /openapi.json`);
}

/** `mcpo auth` runs at most this often in one scenario (the first login and the step-ups). */
const MAX_LOGINS = 3;

/**
 * How long after a login a proxy still reported `unauthorized` is given to notice it (it looks at the token store
 * every 250 ms, then connects) before the human logs in again. Without it, a /health read in that gap sent the
 * human back to a plain login whose narrower token replaced the step-up's: about one auth/scope-step-up run in four
 * then needed five logins.
 */
const NOTICE_LOGIN_MS = 3000;
let lastLoginAt = 0;

/**
 * Resolves once GET /health answers 200; fails at once if the upstream is reported down or the proxy exits. In
 * state `unauthorized`, `login` (the human) runs, when given.
 */
async function waitUntilConnected(running: Proxy, login?: () => Promise<void>): Promise<void> {
  for (;;) {
    if (running.process.child.exitCode !== null) throw new Error(`the proxy exited ${running.process.child.exitCode}`);
    const answer = await running.get("/health");
    if (answer.status === 200) return;
    const details = (answer.body as { details?: { state?: string; last_error?: string | null } }).details;
    if (details?.state === "down") throw new Error(`the proxy could not connect: ${details.last_error ?? "?"}`);
    if (details?.state === "unauthorized" && Date.now() - lastLoginAt >= NOTICE_LOGIN_MS) {
      if (!login) throw new Error(`the proxy is unauthorized: ${details.last_error ?? "?"}`);
      await login();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Stops the proxy (SIGTERM, then SIGKILL after the grace) and shows its log, which the runner keeps. */
async function stopProxy(): Promise<void> {
  const running = proxy;
  proxy = undefined;
  if (!running) return;
  const grace = setTimeout(() => void running.stop("SIGKILL"), STOP_GRACE_MS);
  await running.stop("SIGTERM");
  clearTimeout(grace);
  process.stderr.write(`--- mcpo-ts log ---\n${running.process.stderr()}`);
}

let finishing = false;

/** The one way out: the first call wins (a signal or the deadline can race the scenario's own end). */
async function finish(code: number, message?: string): Promise<void> {
  if (finishing) return;
  finishing = true;
  if (message) process.stderr.write(`adapter: ${message}\n`);
  await stopProxy().catch((error: unknown) => process.stderr.write(`adapter: stopping the proxy: ${String(error)}\n`));
  oauth?.cleanup();
  process.exit(code);
}

setTimeout(() => void finish(1, `gave up after ${DEADLINE_MS} ms`), DEADLINE_MS);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void finish(1, `stopped by ${signal}`));

main().then(
  () => finish(0),
  (error: unknown) => finish(1, error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
