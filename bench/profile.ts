/**
 * node --import tsx bench/profile.ts [--era legacy|modern] [--transport stdio|streamable-http]
 *                                    [--concurrency 16] [--contender mcpo|thin] [--cli path/to/main.js]
 *                                    [--interval µs] [--out dir]
 *
 * Where a proxy's CPU goes per call: runs the contender (mcpo-ts's dist/ or
 * the thin bridge) under `node --cpu-prof` in front of the era's echo server,
 * drives it as the overhead bench does (1 s warm-up, 5 s measured), and
 * prints the CPU time per call by where the code lives (mcpo-ts's layers,
 * the SDK, zod, Node's HTTP, garbage collection) and the functions that cost
 * the most. Only the samples of the measured window count (start-up and
 * shutdown are cut off). The .cpuprofile stays in --out for Chrome DevTools.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { launchMcpo, mcpoArgs } from "./lib/contenders.js";
import { startChild, stopAllChildren, waitFor, type Child } from "./lib/children.js";
import { httpCaller, runLoad } from "./lib/load.js";
import { markdownTable, num } from "./lib/table.js";
import { transpileToBuild } from "./lib/transpile.js";
import { startHttpUpstream, stdioUpstream, type Era, type RemoteUpstream, type Upstream } from "./lib/upstream.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const WARMUP_MS = 1000;
const DURATION_MS = 5000;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives, coarse enough to add up to a per-call budget. */
function placeOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)" || functionName === "(program)" || functionName === "(root)") return functionName;
  const src = /\/dist\/([a-z-]+)\//.exec(url);
  if (src && !url.includes("node_modules")) return `mcpo-ts ${src[1]}/`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (/^node:(internal\/)?_?http/.test(url)) return "node http";
  if (/^node:(internal\/)?(net|stream|streams|child_process|readline)/.test(url)) return "node net, streams, pipes";
  // Only active once something uses AsyncLocalStorage (Node 20 runs a hook on every promise then).
  if (/^node:(internal\/)?async_hooks/.test(url) || functionName === "executionAsyncResource") {
    return "node async_hooks";
  }
  if (/^node:internal\/(abort_controller|event_target)/.test(url)) return "node AbortSignal, EventTarget";
  if (/^node:(internal\/)?timers/.test(url)) return "node timers";
  if (url.startsWith("node:")) return "node other";
  if (url.endsWith(".mjs") && url.includes("/.build/")) return "thin bridge";
  if (url === "" && /^(writev|writeUtf8String|writeBuffer|writeLatin1String)$/.test(functionName)) {
    return "native writes (syscalls)";
  }
  return url === "" ? "(native other)" : url;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      era: { type: "string", default: "legacy" },
      transport: { type: "string", default: "stdio" },
      concurrency: { type: "string", default: "16" },
      contender: { type: "string", default: "mcpo" },
      /** Another build of mcpo-ts to profile (a patched copy of dist/, to measure a change before making it). */
      cli: { type: "string" },
      /** Sampling interval in µs: finer than node's default 1000 so that 1% of the time is many samples. */
      interval: { type: "string", default: "200" },
      out: { type: "string", default: `${REPO}bench/results/profiles` },
    },
  });
  const era = values.era as Era;
  const concurrency = Number(values.concurrency);
  const dir = resolve(values.out!, `${values.contender}-${era}-${values.transport}-c${concurrency}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const profiling = ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", values.interval!];

  let remote: RemoteUpstream | undefined;
  let child: Child;
  let url: string;
  let readyMs: number;
  try {
    remote = values.transport === "streamable-http" ? await startHttpUpstream(era) : undefined;
    const upstream: Upstream = remote?.upstream ?? stdioUpstream(era);
    const spawnedAt = performance.now();
    if (values.contender === "thin") {
      const entry = transpileToBuild(new URL("./thin-proxy.ts", import.meta.url));
      const target = upstream.transport === "stdio" ? [upstream.command, ...upstream.args] : [upstream.url];
      child = startChild(process.execPath, [...profiling, entry, upstream.transport, ...target]);
      const port = await waitFor("the thin bridge", () => /listening (\d+)/.exec(child.stdout())?.[1]);
      url = `http://127.0.0.1:${port}`;
    } else {
      const args = mcpoArgs(upstream);
      if (values.cli) args[0] = resolve(values.cli);
      ({ child, url } = await launchMcpo([...profiling, ...args]));
    }
    readyMs = performance.now() - spawnedAt;
    const { call, close } = httpCaller(`${url}/echo`, JSON.stringify({ message: "hello from the bench" }), concurrency);
    const load = await runLoad(call, { concurrency, warmupMs: WARMUP_MS, durationMs: DURATION_MS });
    close();
    await child.stop(); // SIGTERM: a graceful exit writes the profile
    process.stdout.write(
      `${values.contender} ${era} ${values.transport} c=${concurrency}: ${load.rps.toFixed(0)} req/s, ` +
        `p50 ${load.p50Ms.toFixed(3)} ms, ${load.requests} calls, ${load.errors} errors\n`,
    );
    const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no .cpuprofile in ${dir}: did the process exit gracefully?`);
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    // The window, in profile time: start-up (up to ready), then the warm-up, then the measured calls.
    const summary = report(
      profile,
      (readyMs + WARMUP_MS) * 1000,
      (readyMs + WARMUP_MS + load.elapsedMs) * 1000,
      load.requests,
    );
    // Every place and function in µs per call, to compare two runs (mcpo-ts against the thin bridge, say).
    writeFileSync(
      join(dir, "summary.json"),
      `${JSON.stringify({ ...summary, rps: load.rps, p50Ms: load.p50Ms }, null, 2)}\n`,
    );
    process.stdout.write(`\nprofile: ${join(dir, file)}\n`);
  } finally {
    await stopAllChildren();
    await remote?.child.stop();
  }
}

/** Self time per place and per function over samples in [fromUs, toUs) of the profile, per call. */
interface Summary {
  calls: number;
  busyUsPerCall: number;
  /** Self time per call, by place and by function. */
  places: Record<string, number>;
  functions: Record<string, number>;
}

function report(profile: CpuProfile, fromUs: number, toUs: number, calls: number): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let at = 0;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    const delta = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
    if (at < fromUs || at >= toUs) continue;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
    windowUs += delta;
  }
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  // Inclusive time of mcpo-ts's own functions: each sample counted once per function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const place = placeOf(node.callFrame);
    places.set(place, (places.get(place) ?? 0) + us);
    const name = `${node.callFrame.functionName || "(anonymous)"} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const frame = byId.get(cursor)!.callFrame;
      if (!placeOf(frame).startsWith("mcpo-ts")) continue;
      const key = `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const busyUs = windowUs - (places.get("(idle)") ?? 0);
  const perCall = (us: number): string => num(us / Math.max(1, calls), 1);
  const share = (us: number): string => `${num((100 * us) / Math.max(1, busyUs), 1)}%`;
  const top = (map: Map<string, number>, n: number): [string, number][] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  process.stdout.write(
    `\nwindow ${num(windowUs / 1000)} ms, busy ${num(busyUs / 1000)} ms, ${calls} calls: ${perCall(busyUs)} µs of CPU per call\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      ["where (self time)", "µs/call", "share of busy"],
      top(places, 25)
        .filter(([place]) => place !== "(idle)")
        .map(([place, us]) => [place, perCall(us), share(us)]),
    )}\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      ["function (self time)", "µs/call", "share of busy"],
      top(functions, 30).map(([name, us]) => [name, perCall(us), share(us)]),
    )}\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      ["mcpo-ts function (inclusive)", "µs/call", "share of busy"],
      top(inclusive, 30).map(([name, us]) => [name, perCall(us), share(us)]),
    )}\n`,
  );
  const perCallOf = (map: Map<string, number>): Record<string, number> =>
    Object.fromEntries([...map].map(([key, us]) => [key, us / Math.max(1, calls)]));
  return {
    calls,
    busyUsPerCall: busyUs / Math.max(1, calls),
    places: perCallOf(places),
    functions: perCallOf(functions),
  };
}

function shortUrl(url: string): string {
  const inModules = url.lastIndexOf("node_modules/");
  if (inModules !== -1) return url.slice(inModules + "node_modules/".length);
  const dist = url.indexOf("/dist/");
  if (dist !== -1 && !url.includes("node_modules")) return url.slice(dist + 1);
  return url.replace(/^file:\/\/.*\/bench\/results\/\.build\//, "");
}

try {
  await main();
} catch (error) {
  process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
