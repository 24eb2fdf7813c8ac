import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { assertRunning, startChild, waitFor, type Child } from "./children.js";
import { httpCaller, type Call } from "./load.js";
import { transpileToBuild } from "./transpile.js";
import { processWarnings, type WarningTally } from "./warnings.js";
import type { Upstream } from "./upstream.js";

export const CONTENDERS = ["floor", "thin", "mcpo"] as const;
export type ContenderName = (typeof CONTENDERS)[number];

/** Something that calls tools for us: directly (floor) or over HTTP through a proxy process. */
export interface Contender {
  readonly name: ContenderName;
  /** The proxy's process id; undefined for the floor, which runs inside the bench. */
  readonly pid: number | undefined;
  /** The floor's own stdio server (a proxy's upstream is found among its children instead). */
  readonly upstreamPid?: number;
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
    case "mcpo":
      return startMcpo(upstream);
  }
}

/** The SDK client in the bench process, N calls in flight on one session: no HTTP hop at all. */
export async function startFloor(upstream: Upstream): Promise<Contender> {
  const client = new Client({ name: "bench-floor", version: "1.0.0" });
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
    caller: (tool, args) => ({
      call: async () => {
        const result = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
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

let thinEntry: string | undefined;

export async function startThin(upstream: Upstream): Promise<Contender> {
  thinEntry ??= transpileToBuild(new URL("../thin-proxy.ts", import.meta.url));
  const target = upstream.transport === "stdio" ? [upstream.command, ...upstream.args] : [upstream.url];
  const child = startChild(process.execPath, [thinEntry, upstream.transport, ...target]);
  const port = await ready(child, "thin proxy", () => /listening (\d+)/.exec(child.stdout())?.[1]);
  return httpContender("thin", child, `http://127.0.0.1:${port}`);
}

/** The built CLI as users run it: default settings, default log level, loopback, a free port. */
export async function startMcpo(upstream: Upstream, extraArgs: readonly string[] = []): Promise<Contender> {
  const { child, url } = await launchMcpo(mcpoArgs(upstream, extraArgs));
  return httpContender("mcpo", child, url);
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

export function httpContender(name: ContenderName, child: Child, baseUrl: string): Contender {
  return {
    name,
    pid: child.pid,
    caller: (tool, args, concurrency) => httpCaller(`${baseUrl}/${tool}`, JSON.stringify(args), concurrency),
    warnings: () => child.warnings(),
    stop: () => child.stop(),
  };
}
