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
import { restApi } from "./rest-api.js";
import { SCENARIOS, type ScenarioContext } from "./scenarios.js";

/** Time for the whole adapter run, proxy start and stop included: under the runner's 30 s. */
const DEADLINE_MS = 25_000;
/** Time the proxy gets to shut down after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;
const POLL_MS = 50;

let proxy: Proxy | undefined;

async function main(): Promise<void> {
  const [serverUrl] = process.argv.slice(2);
  const name = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
  if (!serverUrl) throw new Error("usage: adapter.ts <serverUrl> (with MCP_CONFORMANCE_SCENARIO set)");
  const scenario = SCENARIOS[name];
  if (!scenario) {
    throw new Error(
      name.startsWith("auth/")
        ? `${name}: OAuth to upstreams is a later issue; the proxy has no OAuth client yet`
        : `no REST scenario for "${name}" in test/conformance/scenarios.ts`,
    );
  }
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}") as ScenarioContext;

  proxy = await startProxy(["--server-type", "streamable-http"], [serverUrl]);
  await waitUntilConnected(proxy);
  await scenario(restApi(proxy), context);
}

/** Resolves once GET /health answers 200; fails at once if the upstream is reported down or the proxy exits. */
async function waitUntilConnected(running: Proxy): Promise<void> {
  for (;;) {
    if (running.process.child.exitCode !== null) throw new Error(`the proxy exited ${running.process.child.exitCode}`);
    const answer = await running.get("/health");
    if (answer.status === 200) return;
    const details = (answer.body as { details?: { state?: string; last_error?: string | null } }).details;
    if (details?.state === "down") throw new Error(`the proxy could not connect: ${details.last_error ?? "?"}`);
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
  process.exit(code);
}

setTimeout(() => void finish(1, `gave up after ${DEADLINE_MS} ms`), DEADLINE_MS);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void finish(1, `stopped by ${signal}`));

main().then(
  () => finish(0),
  (error: unknown) => finish(1, error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
