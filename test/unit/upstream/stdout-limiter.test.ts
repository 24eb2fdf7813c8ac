import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { pino } from "pino";
import { StdoutLimiter } from "../../../src/upstream/transports/stdout-limiter.js";

function collectingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString("utf8").split("\n")) if (text) lines.push(JSON.parse(text));
      callback();
    },
  });
  return { logger: pino({ level: "info" }, destination), lines };
}

const flushLogs = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("StdoutLimiter", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it("passes the documented rate of notifications a second, drops the rest, and reports the count once", async () => {
    const { logger, lines } = collectingLogger();
    const limiter = new StdoutLimiter(logger, 5);
    const passed = Array.from({ length: 8 }, () => limiter.admit("notifications/message", {})).filter(Boolean);
    assert.equal(passed.length, 5);
    mock.timers.tick(1000); // the report comes when the second is over
    await flushLogs();
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg, line.dropped, line.limit_per_second]),
      [[40, "notification flood: notifications dropped", 3, 5]],
    );
    assert.equal(limiter.admit("notifications/message", {}), true, "a new second passes again");
  });

  it("still passes one progress notification a second for each call, past the budget", () => {
    const limiter = new StdoutLimiter(undefined, 1);
    assert.equal(limiter.admit("notifications/message", {}), true);
    assert.equal(limiter.admit("notifications/progress", { progressToken: 1 }), true);
    assert.equal(limiter.admit("notifications/progress", { progressToken: 2 }), true);
    assert.equal(limiter.admit("notifications/progress", { progressToken: 1 }), false);
    mock.timers.tick(1000);
    assert.equal(limiter.admit("notifications/progress", { progressToken: 1 }), true);
  });

  it("over budget, skips lines without an id or progress unparsed; never a line with an id", () => {
    const limiter = new StdoutLimiter(undefined, 1);
    assert.equal(limiter.skipsUnparsed('{"method":"notifications/message"}'), false, "within budget");
    limiter.admit("notifications/message", {});
    assert.equal(limiter.skipsUnparsed('{"method":"notifications/message"}'), true);
    assert.equal(limiter.skipsUnparsed('{"jsonrpc":"2.0","id":3,"result":{}}'), false);
    assert.equal(limiter.skipsUnparsed('{"method":"notifications/progress","params":{}}'), false);
  });

  it("counts lines that are not JSON-RPC and reports them once a second with the first as a sample", async () => {
    const { logger, lines } = collectingLogger();
    const limiter = new StdoutLimiter(logger);
    for (let i = 0; i < 500; i++) limiter.noise(`noise ${i}`);
    await flushLogs();
    assert.equal(lines.length, 0, "nothing per line");
    mock.timers.tick(1000);
    await flushLogs();
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg, line.lines, line.first]),
      [[40, "lines on stdout that are not JSON-RPC were skipped", 500, "noise 0"]],
    );
  });
});
