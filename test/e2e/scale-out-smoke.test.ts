import assert from "node:assert/strict";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { startBalancer } from "../../bench/lib/balancer.js";
import { stopAllChildren } from "../../bench/lib/children.js";
import { freePort } from "../helpers/ports.js";
import { runScaleOut, scaleOutTables, type ScaleOutPlan } from "../../bench/scale-out.js";

/**
 * The scale-out harness works end to end with tiny windows: replicas behind the bench's balancer answer, and a
 * replica SIGKILLed under load costs callers only the calls it held, after which the balancer carries on on the
 * others. The figures themselves are not asserted (the machine is shared and noisy).
 */
const TINY: ScaleOutPlan = {
  replicas: [1, 2],
  concurrency: 8,
  rounds: 1,
  warmupMs: 200,
  windowMs: 500,
  failover: { replicas: 2, windowMs: 3000, signalAtMs: 800, signals: ["SIGKILL"] },
};

describe("bench/scale-out.ts with tiny windows", () => {
  after(() => stopAllChildren());

  it("measures direct, 1 and 2 replicas without errors, and recovers from a SIGKILLed replica", async () => {
    const result = await runScaleOut(TINY, () => undefined);

    assert.deepEqual(
      result.throughput.map((row) => `${row.setup} ${row.replicas}`),
      ["direct 1", "balancer 1", "balancer 2"],
    );
    for (const row of result.throughput) {
      assert.equal(row.errors, 0, `${row.setup} ×${row.replicas}: ${row.firstError}`);
      assert.ok(row.requests > 0 && row.rps > 0 && row.p99Ms > 0, `${row.setup} ×${row.replicas} made calls`);
    }
    assert.equal(result.footprint.length, 2);
    for (const replica of result.footprint) {
      assert.ok(replica.processes >= 2, "a replica runs its own stdio server");
      assert.ok(replica.rssMb > 0);
    }

    const [kill] = result.failover;
    assert.ok(kill, "the SIGKILL row is there");
    const row = JSON.stringify(kill);
    assert.equal(kill.failed, undefined, kill.failed);
    assert.equal(kill.signal, "SIGKILL");
    // The balancer noticed (a connection error or a failed readiness poll) and later calls all succeeded.
    assert.notEqual(kill.markedDownMs, null, `the killed replica was marked down: ${row}`);
    assert.ok(kill.okAfter > 0, `calls succeeded after the last failure: ${row}`);
    assert.ok(kill.rpsAfter > 0, row);
    // Only calls the killed replica held can fail: at most one per caller, each a 502 from the balancer.
    assert.ok(kill.errors <= TINY.concurrency, `${kill.errors} errors for ${TINY.concurrency} callers: ${row}`);
    for (const kind of Object.keys(kill.errorKinds)) assert.match(kind, /^502 bad_gateway/, row);
    assert.ok(kill.recoverMs < TINY.failover.windowMs - TINY.failover.signalAtMs, row);

    assert.match(scaleOutTables(result), /\| balancer +\| +2 \|/);
  });
});

/** A backend on loopback that answers as `handle` says and counts the requests it got. */
async function backend(handle: RequestListener): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

const ok: RequestListener = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
};

/** POSTs a tool call through `url` and returns the status and body. */
async function post(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/everything/echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"message":"hi"}',
  });
  return { status: response.status, body: await response.text() };
}

describe("bench/lib/balancer.ts retries only calls that cannot have started", () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  it("sends a call refused with 503 shutting_down to another backend, once", async () => {
    const draining = await backend((_req, res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
      res.end('{"detail":{"message":"The proxy is shutting down","code":"shutting_down"}}');
    });
    const healthy = await backend(ok);
    servers.push(draining.server, healthy.server);
    const balancer = await startBalancer({ backends: [draining.url, healthy.url], healthIntervalMs: 60_000 });
    try {
      assert.deepEqual(await post(balancer.url), { status: 200, body: '{"ok":true}' });
      assert.equal(draining.hits(), 1);
      assert.equal(healthy.hits(), 1);
      assert.deepEqual(balancer.stats().retried, { refused: 0, shuttingDown: 1 });
      assert.equal(balancer.backends()[0]!.up, false, "the draining backend is marked down");
    } finally {
      await balancer.close();
    }
  });

  it("sends a call whose connection was refused to another backend", async () => {
    const healthy = await backend(ok);
    servers.push(healthy.server);
    const gone = `http://127.0.0.1:${await freePort()}`;
    const balancer = await startBalancer({ backends: [gone, healthy.url], healthIntervalMs: 60_000 });
    try {
      assert.deepEqual(await post(balancer.url), { status: 200, body: '{"ok":true}' });
      assert.deepEqual(balancer.stats().retried, { refused: 1, shuttingDown: 0 });
    } finally {
      await balancer.close();
    }
  });

  it("answers 502 and does not resend a call whose connection was reset after it was sent (it may have run)", async () => {
    const crashing = await backend((req) => req.socket.destroy());
    const healthy = await backend(ok);
    servers.push(crashing.server, healthy.server);
    const balancer = await startBalancer({ backends: [crashing.url, healthy.url], healthIntervalMs: 60_000 });
    try {
      const answer = await post(balancer.url);
      assert.equal(answer.status, 502);
      assert.equal((JSON.parse(answer.body) as { detail: { code: string } }).detail.code, "bad_gateway");
      assert.equal(crashing.hits(), 1);
      assert.equal(healthy.hits(), 0, "the call was not sent again");
      assert.deepEqual(balancer.stats().retried, { refused: 0, shuttingDown: 0 });
    } finally {
      await balancer.close();
    }
  });

  it("passes other 503s through unchanged", async () => {
    const busy = await backend((_req, res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end('{"detail":{"message":"busy","code":"upstream_unavailable"}}');
    });
    const healthy = await backend(ok);
    servers.push(busy.server, healthy.server);
    const balancer = await startBalancer({ backends: [busy.url, healthy.url], healthIntervalMs: 60_000 });
    try {
      const answer = await post(balancer.url);
      assert.equal(answer.status, 503);
      assert.match(answer.body, /upstream_unavailable/);
      assert.equal(healthy.hits(), 0);
    } finally {
      await balancer.close();
    }
  });
});
