import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { after, describe, it } from "node:test";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { configFile } from "../helpers/config-file.js";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { isAlive, waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const KEY = "probe-test-key";

/** One request on a connection of its own (no keep-alive pool): what a load balancer's new connection sees. */
function fresh(
  proxy: Proxy,
  method: string,
  path: string,
  body?: unknown,
  /** A keep-alive agent, for a request whose connection should outlive it; else a connection of its own. */
  agent: Agent | false = false,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string; body: Json }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      `${proxy.url}${path}`,
      {
        method,
        agent,
        headers: data === undefined ? {} : { "content-type": "application/json", "content-length": data.length },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let parsed: Json = {};
          try {
            parsed = JSON.parse(text) as Json;
          } catch {
            // HEAD, or not JSON
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** Every process descending from `pid` (Linux /proc), to check that none outlives the proxy. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

describe("orchestrator probes (/livez, /readyz)", () => {
  after(stopAll);

  it("/readyz answers 503 starting, naming the server it waits for, until every server's first outcome; /livez 200 all along", async () => {
    const [node, ...args] = FIXTURE_STDIO;
    // A server that takes 2 s to start (a cold npx or uvx download, say) beside one that starts at once.
    const config = configFile({
      mcpServers: {
        slow: { command: "sh", args: ["-c", `sleep 2; exec ${node} ${args.join(" ")}`] },
        quick: { command: node, args },
      },
    });
    const proxy = await startProxy(["--config", config.path], []);

    const live = await proxy.get("/livez");
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: "ok" });
    assert.equal(live.headers.get("cache-control"), "no-store");

    const starting = await proxy.get("/readyz");
    assert.equal(starting.status, 503);
    assert.equal((starting.body as Json).status, "not_ready");
    assert.equal((starting.body as Json).reason, "starting");
    assert.ok((starting.body as Json).waiting_for.includes("slow"), starting.text);
    assert.equal(starting.headers.get("cache-control"), "no-store");

    const ready = await waitFor(
      "/readyz to answer 200",
      async () => {
        const answer = await proxy.get("/readyz");
        return answer.status === 200 ? answer : undefined;
      },
      20_000,
    );
    assert.deepEqual(ready.body, { status: "ready" });
    // Ready means both servers answer.
    assert.equal((await proxy.post("/slow/pid", {})).status, 200);
    assert.equal((await proxy.post("/quick/pid", {})).status, 200);

    // HEAD too, with the headers and no body.
    const head = await fresh(proxy, "HEAD", "/readyz");
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    assert.match(String(head.headers["content-type"]), /application\/json/);

    // Not in the OpenAPI document: they are not tools.
    const paths = Object.keys(((await proxy.get("/openapi.json")).body as Json).paths);
    assert.ok(!paths.some((path) => /livez|readyz/.test(path)), paths.join(" "));
    assert.equal(await proxy.stop(), 0);
  });

  it("answer without a key under --api-key --strict-auth (a kubelet sends none), and below --root-path", async () => {
    const proxy = await startProxy(["--api-key", KEY, "--strict-auth", "--root-path", "/gateway"], EVERYTHING_STDIO);
    assert.equal((await proxy.get("/health")).status, 401, "strict auth guards /health");
    await waitFor("/readyz to answer 200", async () => (await proxy.get("/readyz")).status === 200, 20_000);
    for (const path of ["/livez", "/readyz", "/gateway/livez", "/gateway/readyz"]) {
      const answer = await proxy.get(path);
      assert.equal(answer.status, 200, `${path}: ${answer.text}`);
    }
    // Single-server mode: no server names to wait for (nothing from the command line is shown).
    assert.deepEqual((await proxy.get("/readyz")).body, { status: "ready" });
    // Only GET and HEAD are probes: a POST is a tool call (none is named livez here), with the key checked first.
    assert.equal((await proxy.post("/livez", {})).status, 401);
    assert.equal(await proxy.stop(), 0);
  });

  it("on SIGTERM: /readyz fails at once, a new call on a new connection gets 503 shutting_down with Retry-After, the call in flight completes, exit 0, no child left", async () => {
    const proxy = await startProxy(["--shutdown-grace", "20"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    const children = descendants(proxy.process.pid);
    assert.ok(children.length > 0, "the stdio server runs as a child");

    const started = Date.now();
    const keepAlive = new Agent({ keepAlive: true });
    const inFlight = fresh(proxy, "POST", "/trigger-long-running-operation", { duration: 3, steps: 3 }, keepAlive);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exit = proxy.stop("SIGTERM");

    const notReady = await waitFor("/readyz to answer 503", async () => {
      const answer = await fresh(proxy, "GET", "/readyz");
      return answer.status === 503 ? answer : undefined;
    });
    assert.deepEqual(notReady.body, { status: "not_ready", reason: "shutting_down" });
    // Still listening (a balancer may not have noticed yet): alive, and new calls are refused with a retry hint.
    assert.equal((await fresh(proxy, "GET", "/livez")).status, 200);
    const refused = await fresh(proxy, "POST", "/echo", { message: "too late" });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.detail.code, "shutting_down");
    assert.equal(refused.headers["retry-after"], "5");

    const answer = await inFlight;
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /Long running operation completed/i);
    // Its connection ends with it: the caller sends nothing more on a connection about to close.
    assert.equal(answer.headers.connection, "close");
    keepAlive.destroy();
    assert.ok(Date.now() - started >= 3000);
    assert.equal(await exit, 0);
    await waitFor("the server processes to be gone", () => children.every((pid) => !isAlive(pid)), 5000);
  });

  it("--shutdown-delay keeps refusing (not closing) for that long after SIGTERM, even with no call in flight", async () => {
    const proxy = await startProxy(["--shutdown-delay", "1.5"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    const signalled = Date.now();
    const exit = proxy.stop("SIGTERM");
    await waitFor("/readyz to answer 503", async () => (await fresh(proxy, "GET", "/readyz")).status === 503);
    // Nothing in flight, yet the port still answers: a balancer that has not noticed gets a refusal it can retry.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const refused = await fresh(proxy, "POST", "/echo", { message: "late" });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.detail.code, "shutting_down");
    assert.equal(refused.headers.connection, "close");
    assert.equal(await exit, 0);
    assert.ok(Date.now() - signalled >= 1500, `${Date.now() - signalled} ms`);
  });

  it("--shutdown-grace bounds the wait: a call still running when it ends gets 503 shutting_down", async () => {
    const proxy = await startProxy(["--shutdown-grace", "0.5"], FIXTURE_STDIO);
    await waitForHealth(proxy, 200);
    const call = fresh(proxy, "POST", "/sleep", { ms: 30_000 });
    await proxy.waitForLog("the call to reach the server", (line) => line.msg === "fixture: sleep 30000 started");
    const signalled = Date.now();
    const exit = proxy.stop("SIGTERM");
    const reply = await call;
    assert.equal(reply.status, 503);
    assert.equal(reply.body.detail.code, "shutting_down");
    // Well under the default 5 s grace period.
    assert.ok(Date.now() - signalled < 4000, `${Date.now() - signalled} ms`);
    assert.equal(await exit, 0);
  });
});
