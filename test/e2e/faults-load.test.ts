import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startEverything } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth } from "../helpers/proxy.js";

interface Outcome {
  start: number;
  end: number;
  status: number;
}

const CALLERS = 16;
const RUN_MS = 4000;
const KILL_AT = 800;
const RESTART_AT = 1600;
/** Calls go on at least this long after the upstream is back (its start-up takes seconds on a loaded machine). */
const AFTER_RESTART_MS = 2000;
/** Successes must resume within this of the restart: the retry pace (0.2 s at most) plus a connection. */
const RECOVERY_MS = 1500;
/** No run goes on longer than this, whatever happens. */
const HARD_CAP_MS = 30_000;

describe("load through an upstream outage", () => {
  after(stopAll);

  it(`answers every request of ${CALLERS} callers while the upstream is killed and restarted`, async (t) => {
    const first = await startEverything("streamableHttp");
    const proxy = await startProxy(
      ["--type", "streamable-http", "--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "2"],
      [first.url],
    );
    await waitForHealth(proxy, 200);

    const t0 = Date.now();
    const outcomes: Outcome[] = [];
    const failures: unknown[] = [];
    let backAt: number | undefined;
    const goOn = (): boolean => {
      const now = Date.now() - t0;
      if (now >= HARD_CAP_MS) return false;
      return now < RUN_MS || backAt === undefined || now < backAt + AFTER_RESTART_MS;
    };
    const caller = async (id: number): Promise<void> => {
      for (let n = 0; goOn(); n++) {
        const start = Date.now() - t0;
        try {
          const answer = await proxy.post("/echo", { message: `${id}-${n}` });
          outcomes.push({ start, end: Date.now() - t0, status: answer.status });
          if (answer.status === 200) assert.equal(answer.body, `Echo: ${id}-${n}`, "each caller gets its own answer");
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const chaos = (async () => {
      await new Promise((resolve) => setTimeout(resolve, KILL_AT));
      const killedAt = Date.now() - t0;
      await first.stop();
      await new Promise((resolve) => setTimeout(resolve, RESTART_AT - KILL_AT));
      await startEverything("streamableHttp", first.port);
      backAt = Date.now() - t0;
      return { killedAt, restartedAt: backAt };
    })();
    await Promise.all([...Array.from({ length: CALLERS }, (_, id) => caller(id)), chaos]);
    const { killedAt, restartedAt } = await chaos;

    assert.deepEqual(failures, [], "every request got an HTTP answer");
    const statuses = new Set(outcomes.map((outcome) => outcome.status));
    assert.deepEqual([...statuses].sort(), [200, 503], `only 200 and 503, got ${[...statuses]}`);
    const recovered = outcomes
      .filter((outcome) => outcome.status === 200 && outcome.start >= restartedAt)
      .reduce((first, outcome) => Math.min(first, outcome.start), Infinity);
    assert.ok(recovered - restartedAt < RECOVERY_MS, `successes resume within ${RECOVERY_MS} ms of the restart`);
    for (const outcome of outcomes.filter((o) => o.status === 503)) {
      assert.ok(outcome.end >= killedAt, `a 503 before the outage: ${JSON.stringify(outcome)}`);
      assert.ok(outcome.start <= recovered, `a 503 after recovery: ${JSON.stringify(outcome)}`);
    }
    const before = outcomes.filter((o) => o.end < killedAt);
    assert.ok(before.length > 0 && before.every((o) => o.status === 200), "all good before the outage");
    const after = outcomes.filter((o) => o.start > recovered);
    assert.ok(after.length > 0 && after.every((o) => o.status === 200), "all good after recovery");
    t.diagnostic(
      `${outcomes.length} requests, ${outcomes.filter((o) => o.status === 503).length} answered 503; ` +
        `killed at ${killedAt} ms, restarted at ${restartedAt} ms, first success after restart at ${recovered} ms`,
    );
    await proxy.stop();
  });
});
