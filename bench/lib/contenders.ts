import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { assertRunning, startChild, waitFor, type Child } from "./children.js";
import { httpCaller, type Call } from "./load.js";
import { transpileToBuild } from "./transpile.js";
import { processWarnings, type WarningTally } from "./warnings.js";
import type { Upstream } from "./upstream.js";

/**
 * `floor` and `thin` run the v2 client with `versionNegotiation: { mode: 'auto' }`, as mcpo-ts does by default.
 * `thin-v1` is the thin bridge on the v1 client (2025 servers only): in the full run's legacy era, not in --quick
 * or the payload figures, to show what the client's v1 to v2 move costs any proxy.
 */
export const CONTENDER_NAMES = ["floor", "thin-v1", "thin", "mcpo"] as const;
export type ContenderName = (typeof CONTENDER_NAMES)[number];
/** The contenders of --quick and of the payload figures. */
export const CONTENDERS: readonly ContenderName[] = ["floor", "thin", "mcpo"];

/** Something that calls tools for us: directly (floor) or over HTTP through a proxy process. */
export interface Contender {
  readonly name: ContenderName;
  /** The proxy's process id; undefined for the floor, which runs inside the bench. */
  readonly pid: number | undefined;
  /** The floor's own stdio server (a proxy's upstream is found among its children instead). */
  readonly upstreamPid?: number;
  /** The protocol era it negotiated ("legacy" or "modern"), so a row never measures the wrong one. */
  era(): Promise<string | undefined>;
  /** A call of `tool` with `args`, shaped for `concurrency` callers. */
  caller(tool: string, args: Record<string, unknown>, concurrency: number): { call: Call; close(): void };
  /** Node warnings since it started (the floor's are this process's). */
  warnings(): WarningTally;
  stop(): Promise<void>;
}

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;

export function startContender(name: ContenderName, upstream: Upstream): Promise<Contender> {
  switch (name) {
    case "floor":
      return startFloor(upstream);
    case "thin":
      return startThin(upstream);
    case "thin-v1":
      return startThin(upstream, "v1");
    case "mcpo":
      return startMcpo(upstream);
  }
}

/** The v2 SDK client in the bench process, N calls in flight on one connection: no HTTP hop at all. */
export async function startFloor(upstream: Upstream): Promise<Contender> {
  const client = new Client({ name: "bench-floor", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  const transport =
    upstream.transport === "stdio"
      ? new StdioClientTransport({ command: upstream.command, args: [...upstream.args], stderr: "ignore" })
      : new StreamableHTTPClientTransport(new URL(upstream.url));
  try {
    await client.connect(transport, { timeout: READY_TIMEOUT_MS });
  } catch (error) {
    await client.close(); // ends a stdio child that started but never answered
    throw error;
  }
  const upstreamPid = transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  const warningsBefore = processWarnings().count;
  return {
    name: "floor",
    pid: undefined,
    ...(upstreamPid === undefined ? {} : { upstreamPid }),
    era: () => Promise.resolve(client.getProtocolEra()),
    caller: (tool, args) => ({
      call: async () => {
        const result = await client.callTool({ name: tool, arguments: args }, { timeout: CALL_TIMEOUT_MS });
        const content = result.content as { type: string; text?: string }[];
        if (result.isError) throw new Error(`tool error: ${JSON.stringify(content).slice(0, 300)}`);
        return content[0]?.text?.length ?? 0;
      },
      close: () => undefined,
    }),
    warnings: () => {
      const now = processWarnings();
      return { ...now, count: now.count - warningsBefore };
    },
    stop: () => client.close(),
  };
}

const thinEntries = new Map<string, string>();

/** The thin bridge in its own process: on the v2 client (`thin`), or on the v1 client (`thin-v1`, 2025 era only). */
export async function startThin(upstream: Upstream, client: "v1" | "v2" = "v2"): Promise<Contender> {
  const source = client === "v1" ? "../thin-proxy-v1.ts" : "../thin-proxy.ts";
  let entry = thinEntries.get(source);
  if (entry === undefined) {
    entry = transpileToBuild(new URL(source, import.meta.url));
    thinEntries.set(source, entry);
  }
  const target = upstream.transport === "stdio" ? [upstream.command, ...upstream.args] : [upstream.url];
  const child = startChild(process.execPath, [entry, upstream.transport, ...target]);
  const port = await ready(child, "thin proxy", () => /listening (\d+)/.exec(child.stdout())?.[1]);
  // The v2 bridge prints the era it landed on; the v1 client speaks only the 2025 one.
  const era = /listening \d+ (\w+)/.exec(child.stdout())?.[1] ?? "legacy";
  return httpContender(client === "v1" ? "thin-v1" : "thin", child, `http://127.0.0.1:${port}`, () =>
    Promise.resolve(era),
  );
}

/** The built CLI as users run it: default settings, default log level, loopback, a free port. */
export async function startMcpo(upstream: Upstream, extraArgs: readonly string[] = []): Promise<Contender> {
  const { child, url } = await launchMcpo(mcpoArgs(upstream, extraArgs));
  return httpContender("mcpo", child, url, () => healthEra(url));
}

export interface LaunchedMcpo {
  child: Child;
  url: string;
  /** From spawn to the `listening` log line. */
  listeningMs: number;
  /** From spawn to the first GET /health answered 200: connected, tools listed, routes built. */
  readyMs: number;
}

/**
 * Runs the CLI with `args` and resolves once it is ready. Rejects with an
 * ExitedError (its `code` the exit code) when the CLI exits first.
 */
export async function launchMcpo(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number; isReady?: (url: string) => Promise<boolean> } = {},
): Promise<LaunchedMcpo> {
  const spawnedAt = performance.now();
  const child = startChild(process.execPath, args, { env: options.env ?? {} });
  const url = await ready(child, "mcpo-ts", () => listeningUrl(child));
  const listeningMs = performance.now() - spawnedAt;
  try {
    await waitFor(
      `mcpo-ts at ${url} to be ready`,
      async () => {
        assertRunning(child, "mcpo-ts");
        return (await (options.isReady ?? healthy)(url)) ? true : undefined;
      },
      options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    );
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { child, url, listeningMs, readyMs: performance.now() - spawnedAt };
}

/** GET `url` answers 200 (bounded, body discarded). */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await response.body?.cancel();
  return response.status === 200;
}

const healthy = (url: string): Promise<boolean> => answers200(`${url}/health`);

/** The era mcpo-ts reports for its upstream on /health (`details.era`). */
async function healthEra(url: string): Promise<string | undefined> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { details?: { era?: string | null } };
  return body.details?.era ?? undefined;
}

export function mcpoArgs(upstream: Upstream, extraArgs: readonly string[] = []): string[] {
  const base = [CLI, "--host", "127.0.0.1", "--port", "0", ...extraArgs];
  return upstream.transport === "stdio"
    ? [...base, "--", upstream.command, ...upstream.args]
    : [...base, "--server-type", "streamable-http", "--", upstream.url];
}

/** The url of mcpo-ts's `listening` log line (JSON lines on stderr), once written. */
export function listeningUrl(child: Child): string | undefined {
  for (const line of child.stderr().split("\n")) {
    if (!line.startsWith("{") || !line.includes('"listening"')) continue;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) return entry.url;
  }
  return undefined;
}

async function ready<T>(child: Child, name: string, check: () => T | undefined): Promise<T> {
  try {
    return await waitFor(
      `${name} to listen`,
      () => {
        const value = check();
        if (value === undefined) assertRunning(child, name);
        return value;
      },
      READY_TIMEOUT_MS,
    );
  } catch (error) {
    await child.stop();
    throw error;
  }
}

export function httpContender(
  name: ContenderName,
  child: Child,
  baseUrl: string,
  era: () => Promise<string | undefined>,
): Contender {
  return {
    name,
    pid: child.pid,
    era,
    caller: (tool, args, concurrency) => httpCaller(`${baseUrl}/${tool}`, JSON.stringify(args), concurrency),
    warnings: () => child.warnings(),
    stop: () => child.stop(),
  };
}
