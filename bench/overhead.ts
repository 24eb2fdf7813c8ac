import { CONTENDERS, startContender, type Contender, type ContenderName } from "./lib/contenders.js";
import { runLoad } from "./lib/load.js";
import { cpuTimeMs, descendants, memory } from "./lib/proc.js";
import { markdownTable, num, ratio } from "./lib/table.js";
import { everythingStdio, startEverythingHttp, type TransportName, type Upstream } from "./lib/upstream.js";

export interface OverheadPlan {
  transports: readonly TransportName[];
  concurrencies: readonly number[];
  warmupMs: number;
  durationMs: number;
}

/** One contender at one concurrency over one transport. CPU figures cover the measured window only. */
export interface OverheadRow {
  transport: TransportName;
  concurrency: number;
  contender: ContenderName;
  requests: number;
  errors: number;
  firstError?: string;
  /** Set when the contender could not be started or its first call failed: nothing was measured. */
  failed?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time (user + system) of the proxy process; null for the floor, which has none. */
  proxyCpuMs: number | null;
  proxyCpuUsPerCall: number | null;
  /** The upstream server's CPU time: shows when it, not the proxy, is the bottleneck. */
  upstreamCpuMs: number | null;
  /** CPU of the bench process itself: the load generator (and, for the floor, the SDK client). */
  benchCpuMs: number;
  /** Peak resident set size (VmHWM) of the proxy process, started fresh for this row. */
  proxyPeakRssMb: number | null;
  /** Node warnings the contender printed (for the floor: the bench process), e.g. MaxListenersExceededWarning. */
  warnings: number;
  firstWarning?: string;
}

const ECHO_ARGS = { message: "hello from the bench" };

/**
 * Every contender against server-everything's `echo`, for each transport and
 * concurrency. Each row gets fresh processes (proxy and upstream), so peak RSS
 * belongs to that row and no session or JIT state carries over.
 */
export async function runOverhead(plan: OverheadPlan, progress: (line: string) => void): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const transport of plan.transports) {
    for (const concurrency of plan.concurrencies) {
      for (const contender of CONTENDERS) {
        const row = await measure(contender, transport, concurrency, plan);
        progress(
          `${transport} c=${concurrency} ${contender}: ` +
            (row.failed ?? `${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, ${row.errors} errors`),
        );
        rows.push(row);
      }
    }
  }
  return rows;
}

async function measure(
  name: ContenderName,
  transport: TransportName,
  concurrency: number,
  plan: OverheadPlan,
): Promise<OverheadRow> {
  const base = { transport, concurrency, contender: name };
  let remote: Awaited<ReturnType<typeof startEverythingHttp>> | undefined;
  let contender: Contender | undefined;
  try {
    remote = transport === "streamable-http" ? await startEverythingHttp() : undefined;
    const upstream: Upstream = remote?.upstream ?? everythingStdio();
    contender = await startContender(name, upstream);
    const upstreamPid = remote?.child.pid ?? stdioUpstreamPid(contender);
    const { call, close } = contender.caller("echo", ECHO_ARGS, concurrency);
    try {
      // One call must succeed, with the message echoed, before anything is timed.
      if ((await call()) < ECHO_ARGS.message.length) throw new Error("echo answered without the message");
      const pid = contender.pid;
      let before = { proxy: 0, upstream: 0, bench: process.cpuUsage() };
      const load = await runLoad(call, {
        concurrency,
        warmupMs: plan.warmupMs,
        durationMs: plan.durationMs,
        onMeasureStart: () => {
          before = { proxy: cpuOf(pid), upstream: cpuOf(upstreamPid), bench: process.cpuUsage() };
        },
      });
      const bench = process.cpuUsage(before.bench);
      const proxyCpuMs = pid === undefined ? null : cpuOf(pid) - before.proxy;
      const warnings = contender.warnings();
      return {
        ...base,
        ...load,
        proxyCpuMs,
        proxyCpuUsPerCall: proxyCpuMs === null ? null : (proxyCpuMs * 1000) / Math.max(1, load.requests),
        upstreamCpuMs: upstreamPid === undefined ? null : cpuOf(upstreamPid) - before.upstream,
        benchCpuMs: (bench.user + bench.system) / 1000,
        proxyPeakRssMb: pid === undefined ? null : memory(pid).peakRssMb,
        warnings: warnings.count,
        ...(warnings.first === undefined ? {} : { firstWarning: warnings.first }),
      };
    } finally {
      close();
    }
  } catch (error) {
    return failedRow(base, error);
  } finally {
    await contender?.stop();
    await remote?.child.stop();
  }
}

/** The stdio server-everything: the floor's transport child, else the proxy's only child. */
function stdioUpstreamPid(contender: Contender): number | undefined {
  if (contender.upstreamPid !== undefined) return contender.upstreamPid;
  return contender.pid === undefined ? undefined : descendants(contender.pid)[0];
}

function cpuOf(pid: number | undefined): number {
  return pid === undefined ? 0 : cpuTimeMs(pid);
}

function failedRow(base: Pick<OverheadRow, "transport" | "concurrency" | "contender">, error: unknown): OverheadRow {
  return {
    ...base,
    failed: error instanceof Error ? error.message : String(error),
    requests: 0,
    errors: 0,
    rps: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    maxMs: NaN,
    proxyCpuMs: null,
    proxyCpuUsPerCall: null,
    upstreamCpuMs: null,
    benchCpuMs: 0,
    proxyPeakRssMb: null,
    warnings: 0,
  };
}

/** The side-by-side table: each contender with its ratios to the thin proxy of the same transport and concurrency. */
export function overheadTable(rows: readonly OverheadRow[]): string {
  const thin = (row: OverheadRow): OverheadRow | undefined =>
    rows.find((r) => r.contender === "thin" && r.transport === row.transport && r.concurrency === row.concurrency);
  const headers = [
    "transport",
    "conc",
    "contender",
    "req/s",
    "req/s vs thin",
    "p50 ms",
    "p50 vs thin",
    "p99 ms",
    "errors",
    "proxy CPU s",
    "proxy CPU µs/call",
    "upstream CPU s",
    "proxy peak RSS MB",
  ];
  const cells = rows.map((row) => [
    row.transport,
    String(row.concurrency),
    row.failed ? `${row.contender} (failed)` : row.contender,
    num(row.rps),
    ratio(row.rps, thin(row)?.rps),
    num(row.p50Ms, 3),
    ratio(row.p50Ms, thin(row)?.p50Ms),
    num(row.p99Ms, 3),
    String(row.errors),
    num(row.proxyCpuMs === null ? null : row.proxyCpuMs / 1000, 2),
    num(row.proxyCpuUsPerCall),
    num(row.upstreamCpuMs === null ? null : row.upstreamCpuMs / 1000, 2),
    num(row.proxyPeakRssMb, 1),
  ]);
  const notes = rows
    .filter((row) => row.warnings > 0)
    .map(
      (row) =>
        `${row.contender} (${row.transport}, c=${row.concurrency}): ${row.warnings} × ${row.firstWarning ?? "warning"}`,
    );
  return [markdownTable(headers, cells), ...(notes.length > 0 ? ["", "Node warnings:", ...notes] : [])].join("\n");
}
