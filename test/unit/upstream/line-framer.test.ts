import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineFramer, type DroppedLine } from "../../../src/upstream/transports/line-framer.js";

function framer(limit = 1024, overflow: "drop" | "truncate" = "drop") {
  const lines: string[] = [];
  const overflows: number[] = [];
  const dropped: DroppedLine[] = [];
  const f = new LineFramer({
    maxLineBytes: limit,
    overflow,
    onLine: (line) => lines.push(line),
    onOverflow: (max) => overflows.push(max),
    onDropped: (line) => dropped.push(line),
  });
  return { push: (text: string) => f.push(Buffer.from(text)), raw: f, lines, overflows, dropped };
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
    const f = framer(100);
    const bytes = Buffer.from("héllo\n");
    f.raw.push(bytes.subarray(0, 2));
    f.raw.push(bytes.subarray(2));
    assert.deepEqual(f.lines, ["héllo"]);
  });

  it("drops a line over the limit, reports it when the limit is passed and when it ends, and resumes after it", () => {
    const f = framer(10);
    f.push("short\n");
    f.push("x".repeat(8));
    f.push("y".repeat(8)); // now over 10 bytes without a newline
    assert.deepEqual(f.overflows, [10]);
    assert.equal(f.dropped.length, 0, "reported when it ends");
    f.push("z".repeat(50) + "\nafter\n");
    assert.deepEqual(f.lines, ["short", "after"]);
    assert.equal(f.dropped.length, 1);
    assert.equal(f.dropped[0]!.bytes, 66);
  });

  it("keeps the two ends of a dropped line (where its JSON-RPC id is), not its middle", () => {
    const f = framer(1000);
    f.push('{"jsonrpc":"2.0","id":7,"result":"');
    for (let i = 0; i < 100; i++) f.push("m".repeat(1000));
    f.push('","id2":8}\n');
    const [line] = f.dropped;
    assert.ok(line!.head.toString().startsWith('{"jsonrpc":"2.0","id":7,'));
    assert.ok(line!.tail.toString().endsWith('mmm","id2":8}'));
    assert.ok(line!.head.length <= 512 && line!.tail.length <= 512);
  });

  it("in truncate mode passes a long line's first bytes at once, ending in …, and skips the rest however long", () => {
    const f = framer(8, "truncate");
    f.push("0123456789");
    assert.deepEqual(f.lines, ["01234567…"], "cut while still being read, before its end");
    for (let i = 0; i < 1000; i++) f.push("x".repeat(10_000));
    f.push("tail\nnext\n");
    assert.deepEqual(f.lines, ["01234567…", "next"]);
  });
});
