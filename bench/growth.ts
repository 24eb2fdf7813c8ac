/**
 * Growth figures: how mcpo-ts's costs change with payload size, tool count,
 * server count, and its memory at rest. Run by `npm run bench`, or alone
 * with `npm run bench:growth` (tables only, no JSON).
 */
import { pathToFileURL } from "node:url";
import { measurePayloads, type PayloadRow } from "./growth/payload.js";
import { measureIdle, measureServerCounts, type IdleResult, type ServersRow, type Skipped } from "./growth/servers.js";
import { measureToolCounts, type ToolsRow } from "./growth/tools.js";
import { stopAllChildren } from "./lib/children.js";
import { markdownTable, num, ratio } from "./lib/table.js";

export interface GrowthResult {
  payload: PayloadRow[];
  tools: ToolsRow[];
  servers: ServersRow[] | Skipped | { failed: string };
  idle: IdleResult | Skipped | { failed: string };
}

export async function runGrowth(progress: (line: string) => void): Promise<GrowthResult> {
  const payload = await measurePayloads(progress);
  const tools = await measureToolCounts(progress);
  const servers = await measureServerCounts(progress).catch(failure);
  if ("skipped" in servers) progress(`servers: skipped: ${servers.skipped}`);
  const idle = await measureIdle(progress).catch(failure);
  if ("skipped" in idle) progress(`idle: skipped: ${idle.skipped}`);
  return { payload, tools, servers, idle };
}

/** How many growth figures could not be measured (skips are not failures). */
export function growthFailed(result: GrowthResult): number {
  return (
    result.payload.filter((row) => row.failed).length +
    result.tools.filter((row) => row.failed).length +
    ("failed" in result.servers ? 1 : 0) +
    ("failed" in result.idle ? 1 : 0)
  );
}

export function growthTables(result: GrowthResult): string {
  const thin = (row: PayloadRow): PayloadRow | undefined =>
    result.payload.find((r) => r.contender === "thin" && r.sizeBytes === row.sizeBytes);
  const payload = markdownTable(
    ["payload", "contender", "calls/s", "p50 ms", "p50 vs thin", "p99 ms", "MiB/s", "MiB/s vs thin", "errors"],
    result.payload.map((row) => [
      `${row.sizeBytes / 1024} KiB`,
      row.failed ? `${row.contender} (failed)` : row.contender,
      num(row.callsPerS, 1),
      num(row.p50Ms, 2),
      ratio(row.p50Ms, thin(row)?.p50Ms),
      num(row.p99Ms, 2),
      num(row.mibPerS, 1),
      ratio(row.mibPerS, thin(row)?.mibPerS),
      String(row.errors),
    ]),
  );
  const tools = markdownTable(
    ["tools", "direct ready ms", "listening ms", "ready ms", "RSS MB", "openapi KB", "openapi first ms"].concat([
      "openapi median ms",
      "call p50 ms",
      "call p99 ms",
      "errors",
    ]),
    result.tools.map((row) => [
      row.failed ? `${row.tools} (failed)` : String(row.tools),
      num(row.directReadyMs),
      num(row.listeningMs),
      num(row.readyMs),
      num(row.rssMb, 1),
      num(row.openapi.bytes / 1024, 1),
      num(row.openapi.firstMs, 2),
      num(row.openapi.medianMs, 2),
      num(row.callP50Ms, 3),
      num(row.callP99Ms, 3),
      String(row.callErrors),
    ]),
  );
  return [
    "Payload (stdio, echo, one call at a time)",
    payload,
    "",
    "Tools (one stdio server, mcpo-ts; the call goes to the last tool)",
    tools,
    "",
    "Servers (stdio, 20 tools each, from a --config file)",
    serversText(result.servers),
    "",
    `Idle memory: ${idleText(result.idle)}`,
  ].join("\n");
}

function serversText(servers: GrowthResult["servers"]): string {
  if ("skipped" in servers) return `skipped: ${servers.skipped}`;
  if ("failed" in servers) return `failed: ${servers.failed}`;
  return markdownTable(
    [
      "servers",
      "listening ms",
      "ready ms",
      "proxy RSS MB",
      "upstreams RSS MB",
      "openapi KB",
      "openapi median ms",
    ].concat(["first server p50 ms", "last server p50 ms", "errors"]),
    servers.map((row) => [
      String(row.servers),
      num(row.listeningMs),
      num(row.readyMs),
      num(row.rssMb, 1),
      num(row.upstreamsRssMb, 0),
      num(row.openapi.bytes / 1024, 1),
      num(row.openapi.medianMs, 2),
      num(row.firstServerP50Ms, 3),
      num(row.lastServerP50Ms, 3),
      String(row.callErrors),
    ]),
  );
}

function idleText(idle: GrowthResult["idle"]): string {
  if ("skipped" in idle) return `skipped: ${idle.skipped}`;
  if ("failed" in idle) return `failed: ${idle.failed}`;
  return (
    `${idle.rssMb.toFixed(1)} MB RSS settled (${idle.startRssMb.toFixed(1)} MB just after start-up, peak ` +
    `${idle.peakRssMb.toFixed(1)} MB) with ${idle.config}${idle.ready ? "" : ", not every server came up"}`
  );
}

function failure(error: unknown): { failed: string } {
  return { failed: error instanceof Error ? error.message : String(error) };
}

// Run alone: `node --import tsx bench/growth.ts`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.once("SIGINT", () => void stopAllChildren().finally(() => process.exit(130)));
  let code = 1;
  try {
    const result = await runGrowth((line) => void process.stderr.write(`  ${line}\n`));
    process.stdout.write(`${growthTables(result)}\n`);
    code = growthFailed(result) > 0 ? 1 : 0;
  } finally {
    await stopAllChildren();
  }
  process.exit(code);
}
