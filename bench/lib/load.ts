import { Agent, request } from "node:http";
import { summarize, type LatencySummary } from "./stats.js";

/** One call of the thing measured: resolves with the size of the answer, rejects when the call failed. */
export type Call = () => Promise<number>;

export interface LoadOptions {
  /** Calls in flight at all times (a closed loop: each worker starts its next call when the last ends). */
  concurrency: number;
  /** Calls made and discarded first, so the JIT, sockets and pools are warm. */
  warmupMs: number;
  /** Length of the measured window; no call starts after it, so the run ends by itself. */
  durationMs: number;
  /** Called once as the measured window opens (to read CPU counters at that instant). */
  onMeasureStart?: () => void;
}

export interface LoadResult extends LatencySummary {
  /** Successful calls started in the measured window. */
  requests: number;
  errors: number;
  firstError?: string;
  /** From the window's opening to the end of its last call. */
  elapsedMs: number;
  rps: number;
}

/** Drives `call` with `concurrency` workers for warm-up plus duration, recording every latency. */
export async function runLoad(call: Call, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const measureAt = performance.now() + options.warmupMs;
  const endAt = measureAt + options.durationMs;
  let openedAt: number | undefined;

  const worker = async (): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (start >= endAt) return;
      const counted = start >= measureAt;
      if (counted && openedAt === undefined) {
        openedAt = start;
        options.onMeasureStart?.();
      }
      try {
        await call();
        if (counted) latencies.push(performance.now() - start);
      } catch (error) {
        if (!counted) continue;
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - (openedAt ?? measureAt);
  return {
    requests: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs,
    rps: (latencies.length * 1000) / elapsedMs,
    ...summarize(latencies),
  };
}

export interface HttpCaller {
  call: Call;
  close(): void;
}

/** Longest a single call may take before it counts as an error (keeps every loop bounded). */
const CALL_TIMEOUT_MS = 30_000;

/**
 * POSTs `body` to `url` over keep-alive connections, one per worker, and
 * resolves on a 200 with the body read to the end (its length in bytes). Our own client rather than
 * autocannon: it records each latency with sub-millisecond resolution, so p50
 * and p99 are exact for sub-millisecond calls, and it adds no dependency.
 */
export function httpCaller(url: string, body: string, concurrency: number): HttpCaller {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const target = new URL(url);
  const payload = Buffer.from(body);
  const headers = { "content-type": "application/json", "content-length": String(payload.length) };
  const call: Call = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers },
        (res) => {
          const failed = res.statusCode !== 200;
          let bytes = 0;
          let text = "";
          res.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
            if (failed && text.length < 300) text += chunk.toString("utf8");
          });
          res.on("end", () =>
            failed ? reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`)) : resolve(bytes),
          );
          res.on("error", reject);
        },
      );
      req.setTimeout(CALL_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}
