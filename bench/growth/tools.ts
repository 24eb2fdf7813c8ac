import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { launchMcpo, mcpoArgs } from "../lib/contenders.js";
import { httpCaller, runLoad } from "../lib/load.js";
import { memory } from "../lib/proc.js";
import { summarize } from "../lib/stats.js";
import { transpileToBuild } from "../lib/transpile.js";

export const TOOL_COUNTS = [1, 20, 200] as const;

export interface ToolsRow {
  tools: number;
  /** The floor for start-up: an SDK client's connect plus tools/list against the same server, no proxy. */
  directReadyMs: number;
  listeningMs: number;
  readyMs: number;
  /** Resident memory of the proxy process once ready (its upstream not included). */
  rssMb: number;
  openapi: OpenApiTiming;
  /** Sequential calls of the last tool (a lookup that scans would be slowest for it). */
  callP50Ms: number;
  callP99Ms: number;
  callErrors: number;
  failed?: string;
}

export interface OpenApiTiming {
  path: string;
  bytes: number;
  /** The first GET after ready. */
  firstMs: number;
  /** Median of the next OPENAPI_REPEATS GETs. */
  medianMs: number;
}

const OPENAPI_REPEATS = 20;
let fixtureEntry: string | undefined;

/** bench/fixtures/many-tools-server.ts compiled once, run as plain JavaScript. */
export function manyToolsEntry(): string {
  return (fixtureEntry ??= transpileToBuild(new URL("../fixtures/many-tools-server.ts", import.meta.url)));
}

/** One mcpo-ts over stdio in front of a server with 1, 20, then 200 tools. */
export async function measureToolCounts(progress: (line: string) => void): Promise<ToolsRow[]> {
  const rows: ToolsRow[] = [];
  for (const tools of TOOL_COUNTS) {
    const row = await measureCount(tools).catch((error: unknown): ToolsRow => ({
      ...emptyRow(tools),
      failed: error instanceof Error ? error.message : String(error),
    }));
    progress(
      `${tools} tools: ${row.failed ?? `ready in ${row.readyMs.toFixed(0)} ms, p50 ${row.callP50Ms.toFixed(3)} ms`}`,
    );
    rows.push(row);
  }
  return rows;
}

async function measureCount(tools: number): Promise<ToolsRow> {
  const env = { TOOL_COUNT: String(tools) };
  const directReadyMs = await directStart(env);
  const upstream = { transport: "stdio", command: process.execPath, args: [manyToolsEntry()] } as const;
  const mcpo = await launchMcpo(mcpoArgs(upstream), { env });
  try {
    const rssMb = memory(mcpo.child.pid).rssMb;
    const openapi = await timeGet(mcpo.url, "/openapi.json");
    const { call, close } = httpCaller(`${mcpo.url}/tool_${tools}`, JSON.stringify({ text: "hello" }), 1);
    try {
      await call();
      const load = await runLoad(call, { concurrency: 1, warmupMs: 300, durationMs: 1500 });
      return {
        tools,
        directReadyMs,
        listeningMs: mcpo.listeningMs,
        readyMs: mcpo.readyMs,
        rssMb,
        openapi,
        callP50Ms: load.p50Ms,
        callP99Ms: load.p99Ms,
        callErrors: load.errors,
      };
    } finally {
      close();
    }
  } finally {
    await mcpo.child.stop();
  }
}

async function directStart(env: Record<string, string>): Promise<number> {
  const startedAt = performance.now();
  // The v2 client, as in mcpo-ts, with its default negotiation: the 2025 handshake and no probe (the fixture is a
  // 2025 server), the least a client can do before it has the tools.
  const client = new Client({ name: "bench-direct", version: "1.0.0" });
  try {
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [manyToolsEntry()], env, stderr: "ignore" }),
      { timeout: 30_000 },
    );
    await client.listTools(undefined, { timeout: 30_000 });
    return performance.now() - startedAt;
  } finally {
    await client.close();
  }
}

/** Times GET `path`: once cold, then the median of OPENAPI_REPEATS more. */
export async function timeGet(baseUrl: string, path: string): Promise<OpenApiTiming> {
  const once = async (): Promise<{ ms: number; bytes: number }> => {
    const startedAt = performance.now();
    const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
    return { ms: performance.now() - startedAt, bytes: body.byteLength };
  };
  const first = await once();
  const repeats: number[] = [];
  for (let i = 0; i < OPENAPI_REPEATS; i++) repeats.push((await once()).ms);
  return { path, bytes: first.bytes, firstMs: first.ms, medianMs: summarize(repeats).p50Ms };
}

function emptyRow(tools: number): ToolsRow {
  return {
    tools,
    directReadyMs: NaN,
    listeningMs: NaN,
    readyMs: NaN,
    rssMb: NaN,
    openapi: { path: "/openapi.json", bytes: NaN, firstMs: NaN, medianMs: NaN },
    callP50Ms: NaN,
    callP99Ms: NaN,
    callErrors: 0,
  };
}
