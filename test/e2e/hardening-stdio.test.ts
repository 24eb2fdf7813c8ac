import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { isAlive, waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const HOSTILE = [process.execPath, fileURLToPath(new URL("../fixtures/hostile/raw-server.mjs", import.meta.url))];
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--protocol", "legacy"];

/** Peak resident memory of a process, in MiB (VmHWM). */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Starts the proxy on the hostile server and waits until it is ready. */
async function hostile(options: string[] = [], env: Record<string, string> = {}): Promise<Proxy> {
  Object.assign(process.env, env);
  const proxy = await startProxy([...FAST, ...options], HOSTILE);
  for (const key of Object.keys(env)) delete process.env[key];
  await waitForHealth(proxy, 200);
  return proxy;
}

async function serverPid(proxy: Proxy): Promise<number> {
  const answer = await proxy.post("/pid", {});
  assert.equal(answer.status, 200);
  return Number(answer.body);
}

describe("a hostile stdio server", () => {
  after(stopAll);

  it("cannot grow the proxy's memory with an endless stderr line: it is cut at 8192 bytes while read", async () => {
    const proxy = await hostile();
    const answer = await proxy.post("/endless-stderr", { mib: 300 });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "poured");
    assert.equal((await proxy.post("/echo", { after: "stderr" })).status, 200, "still serving");
    const cut = await proxy.waitForLog("the cut stderr line", (line) => line.stream === "stderr");
    assert.equal(cut.msg, `${"x".repeat(8192)}…`);
    const peak = peakRssMiB(proxy.process.pid);
    assert.ok(peak < 200, `peak RSS ${peak} MiB`);
    assert.equal(await proxy.stop(), 0);
  });

  it("that closes its stdout but keeps running is a lost connection: 503 at once, its group ended, a new one started", async () => {
    const proxy = await hostile(["--tool-timeout", "20"]);
    const first = await serverPid(proxy);
    const started = Date.now();
    const answer = await proxy.post("/close-stdout", {});
    assert.equal(answer.status, 503);
    assert.equal((answer.body as Json).detail.code, "upstream_unavailable");
    assert.match((answer.body as Json).detail.message, /closed during tool "close-stdout"/);
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    await waitForHealth(proxy, 200);
    assert.notEqual(await serverPid(proxy), first, "a new server process");
    await waitFor("the old server to be ended", () => !isAlive(first));
    await proxy.waitForLog("the reason", (line) => line.reason === "server process closed its stdout while running");
    assert.equal(await proxy.stop(), 0);
  });

  it("that crashes while a grandchild holds its stdout fails the call with 503 at once, and the grandchild is ended", async () => {
    const proxy = await hostile(["--tool-timeout", "20"]);
    const started = Date.now();
    const answer = await proxy.post("/crash-with-grandchild", {});
    assert.equal(answer.status, 503);
    assert.match((answer.body as Json).detail.message, /closed during tool "crash-with-grandchild"/);
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    const line = await proxy.waitForLog("the grandchild's PID", (entry) => /^grandchild \d+$/.test(String(entry.msg)));
    const grandchild = Number(String(line.msg).split(" ")[1]);
    await waitFor("the grandchild to be ended", () => !isAlive(grandchild));
    await waitForHealth(proxy, 200);
    assert.equal(await proxy.stop(), 0);
  });

  it("answering with a line over 64 MiB gets 502 at once saying so, logged at warn, and the server stays in use", async () => {
    const proxy = await hostile(["--tool-timeout", "20"]);
    const pid = await serverPid(proxy);
    const started = Date.now();
    const answer = await proxy.post("/huge-reply", { mib: 65 });
    assert.equal(answer.status, 502);
    assert.equal((answer.body as Json).detail.code, "upstream_error");
    assert.match(
      (answer.body as Json).detail.message,
      /answered tool "huge-reply", but the reply was 65 MiB, over the proxy's limit of 64 MiB for one message; the proxy dropped it/,
    );
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    const warning = await proxy.waitForLog("the warning", (line) => String(line.msg).startsWith("dropped a line of"));
    assert.equal(warning.level, "warn");
    assert.equal(await serverPid(proxy), pid, "no restart was needed");
    assert.equal(await proxy.stop(), 0);
  });

  it("that stops reading its input gets 503 busy past 16 MiB of requests, and calls that ended are never delivered", async () => {
    const proxy = await hostile(["--tool-timeout", "1.5", "--max-body-size", "4194304"]);
    assert.equal((await proxy.post("/stop-reading", { ms: 5000 })).status, 200);
    const pad = "p".repeat(1024 * 1024);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => proxy.post("/echo", { i, pad })));
    const statuses = answers.map((answer) => answer.status);
    const busy = answers.filter((answer) => answer.status === 503);
    assert.ok(busy.length >= 15, statuses.join(","));
    assert.ok(
      statuses.every((status) => status === 503 || status === 504),
      statuses.join(","),
    );
    const detail = (busy[0]!.body as Json).detail;
    assert.equal(detail.reason, "busy");
    assert.match(detail.message, /is busy \(.* of requests are already waiting for the server to read its input\)/);
    assert.equal(busy[0]!.headers.get("retry-after"), "1");
    // Once it reads again, it sees only what was in the pipe before the calls timed out (at most two of 1 MiB).
    const count = await waitFor("the server to read again", async () => {
      const answer = await proxy.post("/count", {});
      return answer.status === 200 ? Number(answer.body) : undefined;
    });
    assert.ok(count <= 2, `${count} timed-out calls were delivered`);
    assert.equal(((await proxy.get("/health")).body as Json).details.reconnect_count, 0, "busy is not a lost server");
    assert.equal(await proxy.stop(), 0);
  });

  it("flooding non-JSON lines is reported once a second as a count, and calls still succeed", async () => {
    const proxy = await hostile();
    const flood = proxy.post("/flood", { kind: "garbage", ms: 1500 });
    assert.equal((await proxy.post("/echo", { during: "garbage" })).status, 200);
    assert.equal((await flood).status, 200);
    const report = await proxy.waitForLog(
      "the count",
      (line) => line.msg === "lines on stdout that are not JSON-RPC were skipped",
    );
    assert.equal(report.level, "warn");
    assert.equal(report.first, "this is not JSON-RPC at all");
    assert.ok(Number(report.lines) > 1000);
    const reports = proxy.logs().filter((line) => line.msg === "lines on stdout that are not JSON-RPC were skipped");
    assert.ok(reports.length <= 4, `${reports.length} reports`);
    assert.equal(await proxy.stop(), 0);
  });

  it("flooding notifications has them dropped past 1000 a second and counted, while answers still arrive", async () => {
    const proxy = await hostile();
    const flood = proxy.post("/flood", { kind: "notifications", ms: 1500 });
    assert.equal((await proxy.post("/echo", { during: "notifications" })).status, 200);
    assert.equal((await flood).status, 200);
    const report = await proxy.waitForLog(
      "the count",
      (line) => line.msg === "notification flood: notifications dropped",
    );
    assert.equal(report.level, "warn");
    assert.equal(report.limit_per_second, 1000);
    assert.ok(Number(report.dropped) > 1000);
    assert.equal(await proxy.stop(), 0);
  });
});

describe("stopping stdio servers", () => {
  after(stopAll);

  it("closes the server's stdin first and signals its group only when it has not exited", async () => {
    const events = join(mkdtempSync(join(tmpdir(), "mcpo-hostile-")), "events");
    const proxy = await hostile([], { HOSTILE_EVENTS_FILE: events });
    assert.equal(await proxy.stop("SIGTERM"), 0);
    const seen = readFileSync(events, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" "));
    assert.deepEqual(
      seen.map(([event]) => event),
      ["stdin-end", "SIGTERM"],
    );
    const waited = Number(seen[1]![1]) - Number(seen[0]![1]);
    assert.ok(waited >= 800, `SIGTERM came ${waited} ms after the end of stdin`);
  });

  it("exits cleanly on SIGHUP, leaving no process of a server's group (a wrapper's background child included)", async () => {
    const [node, script] = HOSTILE;
    const proxy = await startProxy(FAST, ["sh", "-c", `sleep 1000 & exec "${node}" "${script}"`]);
    await waitForHealth(proxy, 200);
    const group = await serverPid(proxy);
    assert.equal(spawnSync("pgrep", ["-g", String(group)]).status, 0, "the group runs");
    assert.equal(await proxy.stop("SIGHUP"), 0);
    assert.equal(spawnSync("pgrep", ["-g", String(group)]).status, 1, "no process of the group is left");
    assert.ok(proxy.logs().some((line) => line.msg === "shutting down" && line.signal === "SIGHUP"));
  });
});
