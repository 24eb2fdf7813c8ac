/**
 * The failover half of the scale-out bench (bench/scale-out.ts): one replica of a group behind the balancer is sent
 * SIGKILL or SIGTERM in the middle of a loaded window, and every call's outcome is kept with its time, so that the
 * row can say what callers saw (errors and their kinds), when they stopped seeing it, and the calls/s either side.
 */
import { startBalancer, type BalancerStats } from "./lib/balancer.js";
import { assertRunning, type Child } from "./lib/children.js";
import { httpCaller, runLoad, type Call } from "./lib/load.js";
import { summarize } from "./lib/stats.js";

/** A running replica of the CLI. */
export interface Replica {
  child: Child;
  url: string;
}

/** What the failover window needs of the plan: the load, and when and how long. */
export interface FailoverPlan {
  concurrency: number;
  warmupMs: number;
  failover: { windowMs: number; signalAtMs: number };
}

/** The call driven: a REST tool route and its JSON body. */
export interface FailoverTarget {
  path: string;
  body: string;
}

export interface FailoverRow {
  signal: "SIGKILL" | "SIGTERM";
  replicas: number;
  /** Calls that failed for their caller, in the whole window, and their kinds ("502 bad_gateway", ...). */
  errors: number;
  errorKinds: Record<string, number>;
  /** From the signal to the balancer marking the replica down; null when it never did. */
  markedDownMs: number | null;
  /** Every time the balancer marked the stopped replica down, ms from the signal (negative: before it), and why. */
  downEvents: { afterMs: number; reason: string }[];
  /** From the signal to the end of the last failed call: the callers' time to recover (0 when none failed). */
  recoverMs: number;
  /** Successful calls per second from the window's opening to the signal, and from recovery to the window's end. */
  rpsBefore: number;
  rpsAfter: number;
  /** Successful calls after the last failure: the balancer carried on. */
  okAfter: number;
  retried: BalancerStats["retried"];
  p99Ms: number;
  failed?: string;
}

interface Outcome {
  /** When the call ended. */
  at: number;
  startedAt: number;
  kind?: string;
}

/** Sends `signal` to the last replica of `group` mid-window and reads what the callers saw. */
export async function stopOne(
  signal: FailoverRow["signal"],
  group: readonly Replica[],
  plan: FailoverPlan,
  target: FailoverTarget,
): Promise<FailoverRow> {
  const victim = group.at(-1)!;
  const balancer = await startBalancer({ backends: group.map((replica) => replica.url) });
  const caller = httpCaller(`${balancer.url}${target.path}`, target.body, plan.concurrency);
  const outcomes: Outcome[] = [];
  const call: Call = async () => {
    const startedAt = performance.now();
    try {
      const bytes = await caller.call();
      outcomes.push({ at: performance.now(), startedAt });
      return bytes;
    } catch (error) {
      outcomes.push({ at: performance.now(), startedAt, kind: errorKind(error) });
      throw error;
    }
  };
  let openedAt = NaN;
  let signalledAt = NaN;
  let timer: NodeJS.Timeout | undefined;
  try {
    assertRunning(victim.child, "the replica to stop");
    const load = await runLoad(call, {
      concurrency: plan.concurrency,
      warmupMs: plan.warmupMs,
      durationMs: plan.failover.windowMs,
      onMeasureStart: () => {
        openedAt = performance.now();
        timer = setTimeout(() => {
          signalledAt = performance.now();
          victim.child.kill(signal);
        }, plan.failover.signalAtMs);
      },
    });
    const closedAt = performance.now();
    if (Number.isNaN(signalledAt)) throw new Error("the window ended before the signal was sent");
    const counted = outcomes.filter((outcome) => outcome.startedAt >= openedAt);
    const failures = counted.filter((outcome) => outcome.kind !== undefined);
    const errorKinds: Record<string, number> = {};
    for (const failure of failures) errorKinds[failure.kind!] = (errorKinds[failure.kind!] ?? 0) + 1;
    const recoveredAt = Math.max(signalledAt, ...failures.map((failure) => failure.at));
    const ok = counted.filter((outcome) => outcome.kind === undefined);
    const rate = (from: number, to: number): number =>
      to > from ? (ok.filter((o) => o.at >= from && o.at < to).length * 1000) / (to - from) : NaN;
    const marks = balancer.stats().markedDown.filter((mark) => mark.url === victim.url);
    const down = marks.find((mark) => mark.at >= signalledAt);
    return {
      signal,
      replicas: group.length,
      errors: load.errors,
      errorKinds,
      markedDownMs: down === undefined ? null : down.at - signalledAt,
      downEvents: marks.map((mark) => ({ afterMs: mark.at - signalledAt, reason: mark.reason })),
      recoverMs: recoveredAt - signalledAt,
      rpsBefore: rate(openedAt, signalledAt),
      rpsAfter: rate(recoveredAt, closedAt),
      okAfter: ok.filter((outcome) => outcome.startedAt > recoveredAt).length,
      retried: balancer.stats().retried,
      p99Ms: summarize(ok.map((outcome) => outcome.at - outcome.startedAt)).p99Ms,
    };
  } finally {
    clearTimeout(timer);
    caller.close();
    await balancer.close();
  }
}

/** "503 no_backend" for an HTTP answer (status and error code), "502 bad_gateway (ECONNRESET)", else the message. */
function errorKind(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const http = /^HTTP (\d+): ([\s\S]*)$/.exec(message);
  if (http === null) return message;
  try {
    const body = JSON.parse(http[2]!) as { detail?: { code?: string; message?: string } };
    // The balancer's own 502 names the backend's failure (ECONNRESET, socket hang up, ...).
    const cause = /^Backend failed: (.+)$/.exec(body.detail?.message ?? "")?.[1];
    return `${http[1]} ${body.detail?.code ?? "?"}${cause === undefined ? "" : ` (${cause})`}`;
  } catch {
    return `${http[1]}`;
  }
}

export function emptyFailover(signal: FailoverRow["signal"], replicas: number): FailoverRow {
  return {
    signal,
    replicas,
    errors: 0,
    errorKinds: {},
    markedDownMs: null,
    downEvents: [],
    recoverMs: NaN,
    rpsBefore: NaN,
    rpsAfter: NaN,
    okAfter: 0,
    retried: { refused: 0, shuttingDown: 0 },
    p99Ms: NaN,
  };
}
