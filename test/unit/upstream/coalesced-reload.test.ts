import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Client } from "@modelcontextprotocol/client";
import { CoalescedReload } from "../../../src/upstream/coalesced-reload.js";

/** Stand-ins for sessions: the helper only compares them. */
const sessionA = {} as Client;
const sessionB = {} as Client;

/** A reload that waits until the test lets it finish, recording which session each run was for. */
function gatedReload(): { reload: (client: Client) => Promise<void>; runs: Client[]; finish: () => Promise<void> } {
  const gates: (() => void)[] = [];
  const runs: Client[] = [];
  return {
    runs,
    reload: (client) => {
      runs.push(client);
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    finish: async () => {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe("CoalescedReload", () => {
  it("turns a burst of notifications into two reloads, and says how many it absorbed", async () => {
    const gate = gatedReload();
    const absorbed: number[] = [];
    const reloads = new CoalescedReload(
      gate.reload,
      () => true,
      (n) => absorbed.push(n),
    );
    for (let i = 0; i < 6; i++) reloads.changed(sessionA);
    assert.equal(gate.runs.length, 1, "one reload in flight");
    await gate.finish();
    assert.equal(gate.runs.length, 2, "one more for everything that came meanwhile");
    await gate.finish();
    assert.equal(gate.runs.length, 2);
    assert.deepEqual(absorbed, [5]);
    reloads.changed(sessionA);
    assert.equal(gate.runs.length, 3, "a later notification reloads again");
    await gate.finish();
  });

  it("reloads for a new session at once, and does not repeat one for a session no longer current", async () => {
    const gate = gatedReload();
    let current = sessionA;
    const reloads = new CoalescedReload(gate.reload, (client) => client === current);
    reloads.changed(sessionA);
    reloads.changed(sessionA); // pending for A
    current = sessionB;
    reloads.changed(sessionB);
    assert.deepEqual(gate.runs, [sessionA, sessionB], "B's reload does not wait for A's");
    await gate.finish(); // A's ends: its pending reload is dropped, A is gone
    assert.deepEqual(gate.runs, [sessionA, sessionB]);
    await gate.finish();
  });

  it("never lets a failed reload reject into the process, and reloads again on the next notification", async () => {
    let calls = 0;
    const reloads = new CoalescedReload(
      () => {
        calls++;
        return Promise.reject(new Error("listing failed"));
      },
      () => true,
    );
    reloads.changed(sessionA);
    await new Promise((resolve) => setImmediate(resolve));
    reloads.changed(sessionA);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 2, "not left marked as running");
  });
});
