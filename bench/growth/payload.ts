import { CONTENDERS, startContender, type Contender, type ContenderName } from "../lib/contenders.js";
import { runLoad } from "../lib/load.js";
import { everythingStdio } from "../lib/upstream.js";

export const PAYLOAD_SIZES = [1024, 100 * 1024, 1024 * 1024] as const;

export interface PayloadRow {
  sizeBytes: number;
  contender: ContenderName;
  callsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Argument plus result bytes moved per second, MiB/s (echo answers what it is sent). */
  mibPerS: number;
  requests: number;
  errors: number;
  firstError?: string;
  failed?: string;
}

const CONCURRENCY = 1; // one call at a time: the cost of a payload, not of queueing
const WARMUP_MS = 500;
const DURATION_MS = 2000;

/** echo with a 1 KiB, 100 KiB and 1 MiB message over stdio, through every contender. */
export async function measurePayloads(progress: (line: string) => void): Promise<PayloadRow[]> {
  const rows: PayloadRow[] = [];
  for (const name of CONTENDERS) {
    let contender: Contender | undefined;
    try {
      contender = await startContender(name, everythingStdio());
      for (const sizeBytes of PAYLOAD_SIZES) {
        const row = await measureSize(contender, sizeBytes);
        progress(`payload ${sizeBytes} B ${name}: ${row.failed ?? `${row.mibPerS.toFixed(1)} MiB/s`}`);
        rows.push(row);
      }
    } catch (error) {
      const failed = error instanceof Error ? error.message : String(error);
      progress(`payload ${name}: ${failed}`);
      rows.push(...PAYLOAD_SIZES.map((sizeBytes) => emptyRow(sizeBytes, name, failed)));
    } finally {
      await contender?.stop();
    }
  }
  return rows;
}

async function measureSize(contender: Contender, sizeBytes: number): Promise<PayloadRow> {
  // ASCII only, so the JSON string is exactly sizeBytes long with no escapes.
  const { call, close } = contender.caller("echo", { message: "x".repeat(sizeBytes) }, CONCURRENCY);
  try {
    // The answer must carry the payload back, or we would be timing an error message.
    const answered = await call();
    if (answered < sizeBytes) throw new Error(`echo answered ${answered} bytes for a ${sizeBytes}-byte message`);
    const load = await runLoad(call, { concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS });
    return {
      sizeBytes,
      contender: contender.name,
      callsPerS: load.rps,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      mibPerS: (load.rps * 2 * sizeBytes) / 2 ** 20,
      requests: load.requests,
      errors: load.errors,
      ...(load.firstError === undefined ? {} : { firstError: load.firstError }),
    };
  } catch (error) {
    return emptyRow(sizeBytes, contender.name, error instanceof Error ? error.message : String(error));
  } finally {
    close();
  }
}

function emptyRow(sizeBytes: number, contender: ContenderName, failed: string): PayloadRow {
  return { sizeBytes, contender, callsPerS: NaN, p50Ms: NaN, p99Ms: NaN, mibPerS: NaN, requests: 0, errors: 0, failed };
}
