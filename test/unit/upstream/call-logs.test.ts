import assert from "node:assert/strict";
import { setImmediate as turn } from "node:timers/promises";
import { describe, it } from "node:test";
import { deliverCallLog, outsideCallLogs, withCallLogs, type CallLog } from "../../../src/upstream/call-logs.js";

const message = (data: string): { method: "notifications/message"; params: CallLog } => ({
  method: "notifications/message",
  params: { level: "info", data },
});

/** As the SDK does: a notification handled later, in the async context of whatever read it. */
const arrives = (data: string): Promise<void> => turn().then(() => deliverCallLog(message(data)));

describe("call logs", () => {
  it("reach the call whose async context the message arrives in, and no other", async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    await Promise.all([
      withCallLogs(
        (log) => a.push(log.data),
        async () => {
          await arrives("a1");
          await arrives("a2");
        },
      ),
      withCallLogs(
        (log) => b.push(log.data),
        async () => {
          await arrives("b1");
        },
      ),
    ]);
    assert.deepEqual(a, ["a1", "a2"]);
    assert.deepEqual(b, ["b1"]);
  });

  it("reach nobody outside a call (the session's stream, stdio)", async () => {
    const seen: unknown[] = [];
    await withCallLogs(
      (log) => seen.push(log.data),
      async () => undefined,
    );
    await arrives("nobody's");
    assert.deepEqual(seen, []);
  });

  it("do not follow work a call starts outside its context (a reconnect and the streams it opens)", async () => {
    const seen: unknown[] = [];
    let reconnect: Promise<void> | undefined;
    await withCallLogs(
      (log) => seen.push(log.data),
      async () => {
        reconnect = outsideCallLogs(async () => {
          await turn();
          await arrives("on the new session's stream");
        });
        await arrives("mine");
      },
    );
    await reconnect;
    assert.deepEqual(seen, ["mine"]);
  });
});
