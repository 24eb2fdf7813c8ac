/**
 * The MCP path: an MCP client calling `echo` through mcpo-ts's MCP endpoint
 * (MCP in, MCP out), next to the same client calling the upstream directly
 * and through the thinnest MCP-to-MCP bridge (bench/thin-mcp-bridge.ts), in
 * the same run.
 *
 * Era by era, the client speaks the era's face revision end to end: 2025-11-25
 * (`initialize`, an `Mcp-Session-Id` session) against server-everything, and
 * 2026-07-28 (no session) against the modern fixture; both upstreams run over
 * stdio, started by each path itself. Every path has one client: its
 * concurrent callers share that client's session, as an MCP host (Claude
 * Code, Cursor) shares one session per server between its calls and as the
 * REST bench's floor shares one connection. N clients would measure N
 * sessions' set-up and N upstream fan-outs, not the call path. Over HTTP the
 * client's fetch opens a socket per call in flight, so 16 callers on one
 * session are 16 concurrent HTTP requests.
 *
 * The three paths run side by side and take turns in short windows, the order
 * rotating every round (as target.ts does for two); each figure is the median
 * over the rounds, and each ratio the median of the per-round ratios, so a
 * change in the machine's load falls on every path alike.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { assertRunning, startChild, waitFor, type Child } from "./lib/children.js";
import { launchMcpo, mcpoArgs } from "./lib/contenders.js";
import { runLoad } from "./lib/load.js";
import { cpuTimeMs } from "./lib/proc.js";
import { markdownTable, num } from "./lib/table.js";
import { transpileToBuild } from "./lib/transpile.js";
import { ERA_SERVER, stdioUpstream, type Era } from "./lib/upstream.js";

export const MCP_PATHS = ["direct", "thin", "mcpo"] as const;
export type McpPath = (typeof MCP_PATHS)[number];

/** The revision the client speaks to each path (and the path's face, for the two bridges). */
export const FACE_VERSION: Readonly<Record<Era, string>> = { legacy: "2025-11-25", modern: "2026-07-28" };

export interface McpPathPlan {
  eras: readonly Era[];
  concurrencies: readonly number[];
  /** Turns each path takes at each concurrency (order rotating), each a warm-up and a measured window. */
  rounds: number;
  warmupMs: number;
  windowMs: number;
}

/** One path at one concurrency: medians over the rounds. */
export interface McpPathRow {
  era: Era;
  face: string;
  concurrency: number;
  path: McpPath;
  rounds: number;
  requests: number;
  errors: number;
  firstError?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the bridge process per call (null for the direct client, which has none). */
  proxyCpuUsPerCall: number | null;
  /** Set when the path could not be measured (mcpo-ts without an MCP endpoint is skipped, not failed). */
  skipped?: string;
  failed?: string;
}

/** mcpo-ts over the thin bridge, and the thin bridge over the direct client: medians of the per-round ratios. */
export interface McpPathRatios {
  era: Era;
  concurrency: number;
  mcpoOverThin?: RatioSet;
  thinOverDirect?: RatioSet;
}

export interface RatioSet {
  rps: number;
  p50: number;
  p99: number;
  rpsRange: [number, number];
  p50Range: [number, number];
}

export interface McpPathResult {
  plan: McpPathPlan;
  servers: Readonly<Record<Era, string>>;
  rows: McpPathRow[];
  ratios: McpPathRatios[];
}

interface Running {
  name: McpPath;
  client: Client;
  /** The bridge's process; undefined for the direct client. */
  pid: number | undefined;
  stop(): Promise<void>;
}

interface Sample {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  firstError?: string;
  cpuUsPerCall: number | null;
}

const ECHO_ARGS = { message: "hello from the bench" };
const READY_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;

export async function runMcpPath(plan: McpPathPlan, progress: (line: string) => void): Promise<McpPathResult> {
  const rows: McpPathRow[] = [];
  const ratios: McpPathRatios[] = [];
  for (const era of plan.eras) {
    const measured = await measureEra(era, plan, progress);
    rows.push(...measured.rows);
    ratios.push(...measured.ratios);
  }
  return { plan, servers: ERA_SERVER, rows, ratios };
}

async function measureEra(
  era: Era,
  plan: McpPathPlan,
  progress: (line: string) => void,
): Promise<{ rows: McpPathRow[]; ratios: McpPathRatios[] }> {
  const running: Running[] = [];
  const notRun = new Map<McpPath, { skipped?: string; failed?: string }>();
  try {
    for (const name of MCP_PATHS) {
      try {
        const path = await startPath(name, era);
        if (typeof path === "string") {
          notRun.set(name, { skipped: path });
          progress(`mcp ${era} ${name}: skipped (${path})`);
          continue;
        }
        running.push(path);
        if ((await call(path.client)) < ECHO_ARGS.message.length) throw new Error("echo answered without the message");
      } catch (error) {
        notRun.set(name, { failed: error instanceof Error ? error.message : String(error) });
        progress(`mcp ${era} ${name}: failed (${notRun.get(name)!.failed})`);
      }
    }
    const usable = running.filter((path) => !notRun.has(path.name));
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < plan.rounds; round++) {
      for (const concurrency of plan.concurrencies) {
        const order = usable.map((_, i) => usable[(i + round) % usable.length]!);
        for (const path of order) {
          const sample = await measureWindow(path, concurrency, plan);
          const key = `${path.name} ${concurrency}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
      }
      progress(`mcp ${era}: round ${round + 1} of ${plan.rounds}`);
    }
    const rows: McpPathRow[] = [];
    const ratios: McpPathRatios[] = [];
    for (const concurrency of plan.concurrencies) {
      for (const name of MCP_PATHS) {
        rows.push(rowOf(era, concurrency, name, plan.rounds, samples.get(`${name} ${concurrency}`), notRun.get(name)));
      }
      const of = (name: McpPath): Sample[] | undefined => samples.get(`${name} ${concurrency}`);
      ratios.push({
        era,
        concurrency,
        ...optional("mcpoOverThin", ratioSet(of("mcpo"), of("thin"))),
        ...optional("thinOverDirect", ratioSet(of("thin"), of("direct"))),
      });
    }
    return { rows, ratios };
  } finally {
    await Promise.all(running.map((path) => path.stop()));
  }
}

async function measureWindow(path: Running, concurrency: number, plan: McpPathPlan): Promise<Sample> {
  let cpuBefore = 0;
  const load = await runLoad(() => call(path.client), {
    concurrency,
    warmupMs: plan.warmupMs,
    durationMs: plan.windowMs,
    onMeasureStart: () => (cpuBefore = path.pid === undefined ? 0 : cpuTimeMs(path.pid)),
  });
  const cpuUsPerCall =
    path.pid === undefined ? null : ((cpuTimeMs(path.pid) - cpuBefore) * 1000) / Math.max(1, load.requests);
  return {
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    requests: load.requests,
    errors: load.errors,
    ...(load.firstError === undefined ? {} : { firstError: load.firstError }),
    cpuUsPerCall,
  };
}

/** One `echo` through the client: resolves with the length of the echoed text, rejects on a tool error. */
async function call(client: Client): Promise<number> {
  const result = await client.callTool({ name: "echo", arguments: ECHO_ARGS }, { timeout: CALL_TIMEOUT_MS });
  const content = result.content as { type: string; text?: string }[];
  if (result.isError) throw new Error(`tool error: ${JSON.stringify(content).slice(0, 300)}`);
  return content[0]?.text?.length ?? 0;
}

/** A client that speaks exactly the era's face revision: the 2025 handshake, or 2026-07-28 pinned. */
function faceClient(era: Era): Client {
  const mode = era === "legacy" ? ("legacy" as const) : { pin: FACE_VERSION.modern };
  return new Client({ name: "bench-mcp-path", version: "1.0.0" }, { versionNegotiation: { mode } });
}

let bridgeEntry: string | undefined;

/** Starts one path and connects its client; a string says why mcpo-ts was skipped. */
async function startPath(name: McpPath, era: Era): Promise<Running | string> {
  const upstream = stdioUpstream(era);
  if (upstream.transport !== "stdio") throw new Error("the MCP path runs stdio upstreams only");
  if (name === "direct") {
    const client = faceClient(era);
    const transport = new StdioClientTransport({
      command: upstream.command,
      args: [...upstream.args],
      stderr: "ignore",
    });
    return connected(name, client, transport, undefined, () => Promise.resolve());
  }
  let child: Child;
  let url: string;
  if (name === "thin") {
    bridgeEntry ??= transpileToBuild(new URL("./thin-mcp-bridge.ts", import.meta.url));
    child = startChild(process.execPath, [bridgeEntry, "stdio", upstream.command, ...upstream.args]);
    const port = await waitFor(
      "the thin MCP bridge to listen",
      () => {
        const found = /listening (\d+)/.exec(child.stdout())?.[1];
        if (found === undefined) assertRunning(child, "the thin MCP bridge");
        return found;
      },
      READY_TIMEOUT_MS,
    ).catch(async (error: unknown) => {
      await child.stop();
      throw error;
    });
    url = `http://127.0.0.1:${port}/mcp`;
  } else {
    const launched = await launchMcpo(mcpoArgs(upstream));
    child = launched.child;
    url = `${launched.url}/mcp`;
    if (await answers404(url)) {
      await child.stop();
      return `${url} answers 404: this build has no MCP endpoint`;
    }
  }
  const transport = new StreamableHTTPClientTransport(new URL(url));
  return connected(name, faceClient(era), transport, child, () => child.stop());
}

async function connected(
  name: McpPath,
  client: Client,
  transport: StdioClientTransport | StreamableHTTPClientTransport,
  child: Child | undefined,
  stopChild: () => Promise<void>,
): Promise<Running> {
  const stop = async (): Promise<void> => {
    await client.close().catch(() => undefined);
    await stopChild();
  };
  try {
    await client.connect(transport, { timeout: READY_TIMEOUT_MS });
  } catch (error) {
    await stop();
    throw error;
  }
  const era = client.getProtocolEra() === "modern" ? "modern" : "legacy";
  const version = client.getNegotiatedProtocolVersion();
  if (version !== FACE_VERSION[era]) {
    await stop();
    throw new Error(`${name} negotiated ${String(version)}, not ${FACE_VERSION[era]}`);
  }
  return { name, client, pid: child?.pid, stop };
}

/** A POST that any MCP endpoint answers with something other than 404 (a parse or session error at worst). */
async function answers404(url: string): Promise<boolean> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: "{}",
    signal: AbortSignal.timeout(5000),
  });
  await response.body?.cancel();
  return response.status === 404;
}

function rowOf(
  era: Era,
  concurrency: number,
  path: McpPath,
  rounds: number,
  samples: readonly Sample[] | undefined,
  notRun: { skipped?: string; failed?: string } | undefined,
): McpPathRow {
  const base = { era, face: FACE_VERSION[era], concurrency, path, rounds: samples?.length ?? 0 };
  if (!samples || samples.length === 0) {
    return {
      ...base,
      ...(notRun ?? { failed: `no samples in ${rounds} rounds` }),
      requests: 0,
      errors: 0,
      rps: NaN,
      p50Ms: NaN,
      p99Ms: NaN,
      proxyCpuUsPerCall: null,
    };
  }
  const cpu = samples.map((s) => s.cpuUsPerCall).filter((v): v is number => v !== null);
  const firstError = samples.find((s) => s.firstError !== undefined)?.firstError;
  return {
    ...base,
    requests: samples.reduce((sum, s) => sum + s.requests, 0),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
    rps: median(samples.map((s) => s.rps)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    proxyCpuUsPerCall: cpu.length > 0 ? median(cpu) : null,
  };
}

/** Round by round `a` over `b` (both measured in every round), as medians and the range of the rounds. */
function ratioSet(a: readonly Sample[] | undefined, b: readonly Sample[] | undefined): RatioSet | undefined {
  if (!a || !b || a.length === 0 || a.length !== b.length) return undefined;
  const per = (key: "rps" | "p50Ms" | "p99Ms"): number[] => a.map((s, i) => s[key] / b[i]![key]);
  const [rps, p50, p99] = [per("rps"), per("p50Ms"), per("p99Ms")];
  return {
    rps: median(rps),
    p50: median(p50),
    p99: median(p99),
    rpsRange: [Math.min(...rps), Math.max(...rps)],
    p50Range: [Math.min(...p50), Math.max(...p50)],
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Every path at every concurrency, era by era. */
export function mcpPathTable(result: McpPathResult): string {
  const cells = result.rows.map((row) => [
    row.face,
    String(row.concurrency),
    row.skipped ? `${row.path} (skipped)` : row.failed ? `${row.path} (failed)` : row.path,
    num(row.rps),
    num(row.p50Ms, 3),
    num(row.p99Ms, 3),
    num(row.proxyCpuUsPerCall),
    String(row.errors),
  ]);
  const notes = result.rows
    .filter((row) => row.skipped ?? row.failed ?? row.firstError)
    .map((row) => `${row.path} (${row.face}, c=${row.concurrency}): ${row.skipped ?? row.failed ?? row.firstError}`);
  const table = markdownTable(
    ["face", "conc", "path", "calls/s", "p50 ms", "p99 ms", "bridge CPU µs/call", "errors"],
    cells,
  );
  return [table, ...(notes.length > 0 ? ["", ...new Set(notes)] : [])].join("\n");
}

/** mcpo-ts over the thin bridge, and the thin bridge over the direct client, per era and concurrency. */
export function mcpRatiosTable(result: McpPathResult): string {
  const x = (value: number | undefined): string => (value === undefined ? "—" : `${num(value, 2)}×`);
  const range = (r: [number, number] | undefined): string => (r ? `${num(r[0], 2)}–${num(r[1], 2)}` : "—");
  const cells = result.ratios.map((r) => [
    FACE_VERSION[r.era],
    String(r.concurrency),
    x(r.mcpoOverThin?.rps),
    range(r.mcpoOverThin?.rpsRange),
    x(r.mcpoOverThin?.p50),
    range(r.mcpoOverThin?.p50Range),
    x(r.mcpoOverThin?.p99),
    x(r.thinOverDirect?.rps),
    x(r.thinOverDirect?.p50),
  ]);
  return markdownTable(
    [
      "face",
      "conc",
      "calls/s mcpo/thin",
      "rounds range",
      "p50 mcpo/thin",
      "rounds range",
      "p99 mcpo/thin",
      "calls/s thin/direct",
      "p50 thin/direct",
    ],
    cells,
  );
}

/** Paths that could not be measured (a skipped mcpo-ts is not a failure). */
export function mcpPathFailed(result: McpPathResult): number {
  return result.rows.filter((row) => row.failed !== undefined).length;
}
