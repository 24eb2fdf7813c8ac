import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { UpstreamBusyError } from "../../../src/upstream/transports/errors.js";
import { Outbox } from "../../../src/upstream/transports/outbox.js";

/** A pipe whose reader takes writes only when told to (a server that stopped reading its stdin). */
function pipe(): { stream: Writable; written: string[]; read(): void } {
  const written: string[] = [];
  const held: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark: 16,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      written.push(chunk);
      held.push(callback);
    },
  });
  return { stream, written, read: () => held.splice(0).forEach((callback) => callback()) };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("Outbox", () => {
  it("writes the first line of a turn at once and the rest of the turn together", async () => {
    const { stream, written, read } = pipe();
    const outbox = new Outbox(stream, 1000);
    outbox.push("a\n", 1);
    assert.deepEqual(written, ["a\n"]);
    outbox.push("b\n", 2);
    outbox.push("c\n", 3);
    read();
    await turn();
    assert.deepEqual(written, ["a\n", "b\nc\n"]);
  });

  it("refuses requests with UpstreamBusyError once the bound is buffered, never answers or notifications", async () => {
    const { stream } = pipe();
    const outbox = new Outbox(stream, 100);
    outbox.push(`${"x".repeat(59)}\n`, 1);
    outbox.push(`${"y".repeat(39)}\n`, 2);
    assert.throws(() => outbox.push("z\n", 3), UpstreamBusyError);
    assert.equal(outbox.bufferedChars, 100);
    outbox.push('{"method":"notifications/cancelled"}\n');
    await turn();
    assert.equal(outbox.bufferedChars, 137, "notifications pass the bound");
  });

  it("keeps what the pipe does not take in its own queue, and drops a request cancelled there", async () => {
    const { stream, written, read } = pipe();
    const outbox = new Outbox(stream, 1000);
    outbox.push(`${"a".repeat(20)}\n`, 1); // fills the stream past its high-water mark
    await turn();
    outbox.push("b\n", 2);
    outbox.push("c\n", 3);
    await turn();
    assert.equal(written.length, 1, "the pipe is full: b and c wait");
    assert.equal(outbox.drop(2), true);
    assert.equal(outbox.drop(1), false, "already in the pipe: only a cancellation can reach it");
    read();
    await turn();
    read();
    assert.deepEqual(written, [`${"a".repeat(20)}\n`, "c\n"]);
    assert.equal(outbox.bufferedChars, 0);
  });
});
