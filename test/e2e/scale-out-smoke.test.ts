import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { stopAllChildren } from "../../bench/lib/children.js";
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
