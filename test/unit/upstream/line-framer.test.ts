import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineFramer } from "../../../src/upstream/transports/line-framer.js";

function framer(limit = 1024) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const f = new LineFramer(
    limit,
    (line) => lines.push(line),
    (max) => overflows.push(max),
  );
  return { push: (text: string) => f.push(Buffer.from(text)), lines, overflows };
}

describe("LineFramer", () => {
  it("yields lines split across chunks and several lines in one chunk", () => {
    const f = framer();
    f.push('{"a":');
    f.push('1}\n{"b":2}\n{"c"');
    assert.deepEqual(f.lines, ['{"a":1}', '{"b":2}']);
    f.push(":3}\n");
    assert.deepEqual(f.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("strips a CR before the newline and skips empty lines", () => {
    const f = framer();
    f.push("one\r\n\n\ntwo\n");
    assert.deepEqual(f.lines, ["one", "two"]);
  });

  it("keeps multi-byte characters split between chunks intact", () => {
    const f = framer();
    const bytes = Buffer.from("héllo\n");
    const lines: string[] = [];
    const raw = new LineFramer(
      100,
      (line) => lines.push(line),
      () => undefined,
    );
    raw.push(bytes.subarray(0, 2));
    raw.push(bytes.subarray(2));
    assert.deepEqual(lines, ["héllo"]);
    assert.deepEqual(f.lines, []);
  });

  it("drops a line over the limit, reports it once, and resumes after it", () => {
    const f = framer(10);
    f.push("short\n");
    f.push("x".repeat(8));
    f.push("y".repeat(8)); // now over 10 bytes without a newline
    f.push("z".repeat(50) + "\nafter\n");
    assert.deepEqual(f.lines, ["short", "after"]);
    assert.deepEqual(f.overflows, [10]);
  });
});
