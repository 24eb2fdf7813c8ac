import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExitedError, waitFor } from "../lib/children.js";
import { answers200, CLI, launchMcpo, type LaunchedMcpo } from "../lib/contenders.js";
import { httpCaller, runLoad } from "../lib/load.js";
import { descendants, memory } from "../lib/proc.js";
import { manyToolsEntry, timeGet, type OpenApiTiming } from "./tools.js";

export const SERVER_COUNTS = [10, 50] as const;
const TOOLS_EACH = 20;
const CONFIG_READY_TIMEOUT_MS = 90_000;
const EXAMPLE_CONFIG = fileURLToPath(new URL("../../config.example.json", import.meta.url));

/** A figure this build cannot produce, and why. */
export interface Skipped {
  skipped: string;
}

export interface ServersRow {
  servers: number;
  toolsEach: number;
  listeningMs: number;
  /** From spawn until every server answers healthy. */
  readyMs: number;
  rssMb: number;
  /** All upstream server processes together, for scale. */
  upstreamsRssMb: number;
  openapi: OpenApiTiming;
  /** Sequential calls to the first and the last server: neither should be slower. */
  firstServerP50Ms: number;
  lastServerP50Ms: number;
  callErrors: number;
}

export interface IdleResult {
  config: string;
  /** Whether every server was healthy within the wait (servers that need the network may not be). */
  ready: boolean;
  /** RSS once settled: V8's memory reducer returns start-up memory some seconds after the last activity. */
  rssMb: number;
  /** RSS just after start-up, before that. */
  startRssMb: number;
  peakRssMb: number;
}

/** 10 and 50 stdio servers of 20 tools each, from a generated `--config` file. */
export async function measureServerCounts(progress: (line: string) => void): Promise<ServersRow[] | Skipped> {
  const rows: ServersRow[] = [];
  for (const servers of SERVER_COUNTS) {
    const dir = mkdtempSync(join(tmpdir(), "mcpo-bench-"));
    try {
      const names = Array.from({ length: servers }, (_, i) => `s${i + 1}`);
      const config = join(dir, "config.json");
      const entry = { command: process.execPath, args: [manyToolsEntry()], env: { TOOL_COUNT: String(TOOLS_EACH) } };
      writeFileSync(config, JSON.stringify({ mcpServers: Object.fromEntries(names.map((n) => [n, entry])) }));
      const mcpo = await launchConfig(config, (url) => everyServerHealthy(url, names), CONFIG_READY_TIMEOUT_MS);
      if ("skipped" in mcpo) return mcpo;
      try {
        rows.push(await measureLaunched(mcpo, names));
        progress(`${servers} servers: ready in ${rows.at(-1)!.readyMs.toFixed(0)} ms`);
      } finally {
        await mcpo.child.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

async function measureLaunched(mcpo: LaunchedMcpo, names: string[]): Promise<ServersRow> {
  const pid = mcpo.child.pid;
  const upstreamsRssMb = descendants(pid).reduce((sum, child) => sum + safeRss(child), 0);
  // The aggregated document when there is one, else the first server's own.
  const openapi = await timeGet(mcpo.url, "/openapi.json").catch(() => timeGet(mcpo.url, `/${names[0]}/openapi.json`));
  const p50 = async (server: string): Promise<{ p50Ms: number; errors: number }> => {
    const { call, close } = httpCaller(`${mcpo.url}/${server}/tool_${TOOLS_EACH}`, '{"text":"hello"}', 1);
    try {
      await call();
      return await runLoad(call, { concurrency: 1, warmupMs: 200, durationMs: 1000 });
    } finally {
      close();
    }
  };
  const first = await p50(names[0]!);
  const last = await p50(names.at(-1)!);
  return {
    servers: names.length,
    toolsEach: TOOLS_EACH,
    listeningMs: mcpo.listeningMs,
    readyMs: mcpo.readyMs,
    rssMb: memory(pid).rssMb,
    upstreamsRssMb,
    openapi,
    firstServerP50Ms: first.p50Ms,
    lastServerP50Ms: last.p50Ms,
    callErrors: first.errors + last.errors,
  };
}

/** Proxy memory at rest with config.example.json, a few seconds after start. */
export async function measureIdle(progress: (line: string) => void): Promise<IdleResult | Skipped> {
  if (!existsSync(EXAMPLE_CONFIG)) return { skipped: "config.example.json is not in this checkout" };
  const { mcpServers } = JSON.parse(readFileSync(EXAMPLE_CONFIG, "utf8")) as {
    mcpServers?: Record<string, { disabled?: boolean }>;
  };
  // Disabled servers never come up, by design: wait for the others.
  const names = Object.entries(mcpServers ?? {})
    .filter(([, server]) => server.disabled !== true)
    .map(([name]) => name);
  // Ready as soon as it listens: the example's servers may need the network, and memory at rest is the point.
  const mcpo = await launchConfig(EXAMPLE_CONFIG, () => Promise.resolve(true), 0);
  if ("skipped" in mcpo) return mcpo;
  try {
    const ready = await waitFor(
      "the example servers",
      () => everyServerHealthy(mcpo.url, names).then(orUndefined),
      60_000,
    )
      .then(() => true)
      .catch(() => false);
    // Sample for 20 s: V8 gives start-up memory back about 10 s after the last activity (its memory reducer).
    const startRssMb = memory(mcpo.child.pid).rssMb;
    for (let second = 0; second < 20; second++) await new Promise((resolve) => setTimeout(resolve, 1000));
    const { rssMb, peakRssMb } = memory(mcpo.child.pid);
    progress(
      `idle with config.example.json: ${rssMb.toFixed(1)} MB RSS settled, ${startRssMb.toFixed(1)} MB after start-up` +
        (ready ? "" : " (not every server came up)"),
    );
    return { config: "config.example.json", ready, rssMb, startRssMb, peakRssMb };
  } finally {
    await mcpo.child.stop();
  }
}

/** Starts `mcpo --config`; a build without config mode exits 2 (usage error), which is a skip. */
async function launchConfig(
  config: string,
  isReady: (url: string) => Promise<boolean>,
  readyTimeoutMs: number,
): Promise<LaunchedMcpo | Skipped> {
  try {
    return await launchMcpo([CLI, "--host", "127.0.0.1", "--port", "0", "--config", config], {
      isReady,
      readyTimeoutMs,
    });
  } catch (error) {
    if (error instanceof ExitedError && error.code === 2) {
      return { skipped: `mcpo-ts rejects --config (exit 2: ${error.message.split(": ").slice(1).join(": ")})` };
    }
    throw error;
  }
}

/** Every server's /{name}/health answers 200; without per-server health, the root /health does. */
async function everyServerHealthy(url: string, names: readonly string[]): Promise<boolean> {
  const first = names[0];
  if (first === undefined) return answers200(`${url}/health`);
  const probe = await fetch(`${url}/${first}/health`, { signal: AbortSignal.timeout(5000) });
  await probe.body?.cancel();
  if (probe.status === 404) return answers200(`${url}/health`);
  if (probe.status !== 200) return false;
  return (await Promise.all(names.slice(1).map((name) => answers200(`${url}/${name}/health`)))).every(Boolean);
}

const orUndefined = (ok: boolean): true | undefined => (ok ? true : undefined);

function safeRss(pid: number): number {
  try {
    return memory(pid).rssMb;
  } catch {
    return 0;
  }
}
