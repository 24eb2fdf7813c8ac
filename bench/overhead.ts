import { startContender, type Contender, type ContenderName } from "./lib/contenders.js";
import { runLoad } from "./lib/load.js";
import { cpuTimeMs, descendants, memory } from "./lib/proc.js";
import { markdownTable, num, ratio } from "./lib/table.js";
import {
  startHttpUpstream,
  stdioUpstream,
  type Era,
  type RemoteUpstream,
  type TransportName,
  type Upstream,
} from "./lib/upstream.js";

export interface OverheadPlan {
  /** Protocol eras of the upstream: `legacy` (server-everything) and `modern` (the 2026-07-28 fixture). */
  eras: readonly Era[];
  transports: readonly TransportName[];
  concurrencies: readonly number[];
  contenders: readonly ContenderName[];
  warmupMs: number;
  durationMs: number;
}

/** One contender at one concurrency over one transport. CPU figures cover the measured window only. */
export interface OverheadRow {
  era: Era;
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
 * Every contender against the era's `echo` (server-everything's, or the
 * modern fixture's), for each transport and concurrency. Each row gets fresh
 * processes (proxy and upstream), so peak RSS belongs to that row and no
 * session or JIT state carries over. The eras of one transport and
 * concurrency are measured one after the other, so the two sides of the
 * comparison see the same machine.
 */
export async function runOverhead(plan: OverheadPlan, progress: (line: string) => void): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const transport of plan.transports) {
    for (const concurrency of plan.concurrencies) {
      for (const era of plan.eras) {
        for (const contender of plan.contenders) {
          if (contender === "thin-v1" && era === "modern") continue; // the v1 client speaks only the 2025 era
          const row = await measure(contender, era, transport, concurrency, plan);
          progress(
            `${era} ${transport} c=${concurrency} ${contender}: ` +
              (row.failed ?? `${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, ${row.errors} errors`),
          );
          rows.push(row);
        }
      }
    }
  }
  return rows.sort(byPlan(plan));
}

/** Era first, then transport, concurrency and contender, in the plan's order: each era reads as one block. */
function byPlan(plan: OverheadPlan): (a: OverheadRow, b: OverheadRow) => number {
  const rank = (row: OverheadRow): number[] => [
    plan.eras.indexOf(row.era),
    plan.transports.indexOf(row.transport),
    plan.concurrencies.indexOf(row.concurrency),
    plan.contenders.indexOf(row.contender),
  ];
  return (a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x.reduce((order, value, i) => order || value - y[i]!, 0);
  };
}

async function measure(
  name: ContenderName,
  era: Era,
  transport: TransportName,
  concurrency: number,
  plan: OverheadPlan,
): Promise<OverheadRow> {
  const base = { era, transport, concurrency, contender: name };
  let remote: RemoteUpstream | undefined;
  let contender: Contender | undefined;
  try {
    remote = transport === "streamable-http" ? await startHttpUpstream(era) : undefined;
    const upstream: Upstream = remote?.upstream ?? stdioUpstream(era);
    contender = await startContender(name, upstream);
    const negotiated = await contender.era();
    if (negotiated !== era) throw new Error(`negotiated the ${String(negotiated)} era, not ${era}`);
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

/** The stdio upstream: the floor's transport child, else the proxy's only child. */
function stdioUpstreamPid(contender: Contender): number | undefined {
  if (contender.upstreamPid !== undefined) return contender.upstreamPid;
  return contender.pid === undefined ? undefined : descendants(contender.pid)[0];
}

function cpuOf(pid: number | undefined): number {
  return pid === undefined ? 0 : cpuTimeMs(pid);
}

function failedRow(
  base: Pick<OverheadRow, "era" | "transport" | "concurrency" | "contender">,
  error: unknown,
): OverheadRow {
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

/** The row of the thin bridge that `row` is compared with: same era, transport and concurrency. */
function thinOf(rows: readonly OverheadRow[], row: OverheadRow): OverheadRow | undefined {
  return rows.find(
    (r) =>
      r.contender === "thin" && r.era === row.era && r.transport === row.transport && r.concurrency === row.concurrency,
  );
}

/** Every row, era by era: each contender with its ratios to the thin bridge of the same era, transport and concurrency. */
export function overheadTable(rows: readonly OverheadRow[]): string {
  const headers = [
    "era",
    "transport",
    "conc",
    "contender",
    "req/s",
    "req/s vs thin",
    "p50 ms",
    "p50 vs thin",
    "p99 ms",
    "p99 vs thin",
    "errors",
    "proxy CPU s",
    "proxy CPU µs/call",
    "upstream CPU s",
    "proxy peak RSS MB",
  ];
  const cells = rows.map((row) => [
    row.era,
    row.transport,
    String(row.concurrency),
    row.failed ? `${row.contender} (failed)` : row.contender,
    num(row.rps),
    ratio(row.rps, thinOf(rows, row)?.rps),
    num(row.p50Ms, 3),
    ratio(row.p50Ms, thinOf(rows, row)?.p50Ms),
    num(row.p99Ms, 3),
    ratio(row.p99Ms, thinOf(rows, row)?.p99Ms),
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
        `${row.contender} (${row.era}, ${row.transport}, c=${row.concurrency}): ${row.warnings} × ${row.firstWarning ?? "warning"}`,
    );
  return [markdownTable(headers, cells), ...(notes.length > 0 ? ["", "Node warnings:", ...notes] : [])].join("\n");
}

/**
 * mcpo-ts against the thin bridge with the eras side by side: one line per transport and concurrency, the
 * ratios of each era next to each other, and the CPU each spends per call.
 */
export function erasTable(rows: readonly OverheadRow[], eras: readonly Era[]): string {
  const mcpo = rows.filter((row) => row.contender === "mcpo");
  const configs = [...new Map(mcpo.map((row) => [`${row.transport} ${row.concurrency}`, row])).values()];
  const headers = ["transport", "conc"];
  for (const era of eras) {
    headers.push(`${era} req/s vs thin`, `${era} p50 vs thin`, `${era} p99 vs thin`, `${era} µs/call mcpo / thin`);
  }
  const cells = configs.map((config) => {
    const line = [config.transport, String(config.concurrency)];
    for (const era of eras) {
      const row = mcpo.find(
        (r) => r.era === era && r.transport === config.transport && r.concurrency === config.concurrency,
      );
      const thin = row && thinOf(rows, row);
      line.push(
        row ? ratio(row.rps, thin?.rps) : "—",
        row ? ratio(row.p50Ms, thin?.p50Ms) : "—",
        row ? ratio(row.p99Ms, thin?.p99Ms) : "—",
        row && thin ? `${num(row.proxyCpuUsPerCall)} / ${num(thin.proxyCpuUsPerCall)}` : "—",
      );
    }
    return line;
  });
  return markdownTable(headers, cells);
}
