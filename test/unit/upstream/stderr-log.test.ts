import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { stderrLogger } from "../../../src/upstream/stderr-log.js";

interface Line {
  level: number;
  msg: string;
  stream?: string;
  suppressed?: number;
}

/** A real pino logger writing JSON lines into an array. */
function collectingLogger(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString("utf8").split("\n")) {
        if (text) lines.push(JSON.parse(text) as Line);
      }
      callback();
    },
  });
  return { logger: pino({ level: "info" }, destination), lines };
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("stderrLogger", () => {
  it("logs each line at info, tagged as stderr", async () => {
    const { logger, lines } = collectingLogger();
    const log = stderrLogger(logger);
    log("first");
    log("second");
    await until("two lines", () => lines.length === 2);
    assert.deepEqual(
      lines.map((line) => [line.level, line.stream, line.msg]),
      [
        [30, "stderr", "first"],
        [30, "stderr", "second"],
      ],
    );
  });

  it("logs at most 200 lines a second and reports the rest as one count once the second is over", async () => {
    const { logger, lines } = collectingLogger();
    const log = stderrLogger(logger);
    const started = Date.now();
    for (let i = 0; i < 250; i++) log(`line ${i}`);
    assert.ok(Date.now() - started < 1000, "the burst fits in one second");

    await until("the flood warning", () => lines.some((line) => line.level === 40));
    assert.ok(Date.now() - started >= 900, "the count comes when the second is over, not before");
    const info = lines.filter((line) => line.level === 30);
    const warnings = lines.filter((line) => line.level === 40);
    assert.equal(info.length, 200);
    assert.equal(info[0]?.msg, "line 0");
    assert.equal(info[199]?.msg, "line 199");
    assert.deepEqual(
      warnings.map((line) => [line.msg, line.stream, line.suppressed]),
      [["stderr flood: lines not logged", "stderr", 50]],
    );

    // A new second logs again.
    log("after the flood");
    await until("the next line", () => lines.at(-1)?.msg === "after the flood");
    assert.equal(lines.filter((line) => line.level === 40).length, 1);
  });
});
