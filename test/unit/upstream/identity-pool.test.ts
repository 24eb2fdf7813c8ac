import assert from "node:assert/strict";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { TooManySessionsError } from "../../../src/errors/index.js";
import { compileIdentityReader } from "../../../src/upstream/caller-identity.js";
import { IdentityPool, type EvictReason } from "../../../src/upstream/identity-pool.js";

/** A pool member: which key it was opened for, and whether it was closed (and why). */
interface Member {
  key: string;
  closed?: EvictReason;
  gone: boolean;
}

function pool(max: number, idleMs = 1000) {
  const opened: Member[] = [];
  const p = new IdentityPool<Member>({
    maxSessions: max,
    idleTimeoutMs: idleMs,
    who: 'upstream "t"',
    isGone: (member) => member.gone,
    close: async (member, reason) => {
      member.closed = reason;
    },
  });
  const open = (key: string) => async (): Promise<Member> => {
    const member: Member = { key, gone: false };
    opened.push(member);
    return member;
  };
  return { p, opened, lease: (key: string) => p.acquire(key, open(key)) };
}

describe("IdentityPool", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"] }));
  afterEach(() => mock.timers.reset());

  it("gives each key its own member, and the same member to leases of the same key", async () => {
    const { lease, opened } = pool(10);
    const a1 = await lease("a");
    const b = await lease("b");
    const a2 = await lease("a");
    assert.equal(a1.member, a2.member);
    assert.notEqual(a1.member, b.member);
    assert.deepEqual(
      opened.map((m) => m.key),
      ["a", "b"],
    );
  });

  it("opens one member for concurrent first leases of a key", async () => {
    const { lease, opened } = pool(10);
    const [x, y] = await Promise.all([lease("a"), lease("a")]);
    assert.equal(x.member, y.member);
    assert.equal(opened.length, 1);
  });

  it("closes a member idle past the timeout, not one still leased or used again in time", async () => {
    const { p, lease } = pool(10, 1000);
    const a = await lease("a");
    const b = await lease("b");
    a.release();
    mock.timers.tick(999);
    assert.equal(a.member.closed, undefined);
    mock.timers.tick(1);
    await Promise.resolve();
    assert.equal(a.member.closed, "idle");
    assert.equal(b.member.closed, undefined, "leased: never idle");
    mock.timers.tick(5000);
    assert.equal(b.member.closed, undefined);
    b.release();
    mock.timers.tick(500);
    const again = await lease("b"); // used again before its timeout: the timer starts over on release
    again.release();
    mock.timers.tick(600);
    assert.equal(b.member.closed, undefined);
    mock.timers.tick(400);
    assert.equal(b.member.closed, "idle");
    assert.deepEqual(p.counts(), { open: 0, busy: 0, max: 10 });
  });

  it("opens a new member for a key whose member was closed idle", async () => {
    const { lease, opened } = pool(10, 1000);
    (await lease("a")).release();
    mock.timers.tick(1000);
    const next = await lease("a");
    assert.equal(opened.length, 2);
    assert.notEqual(next.member, opened[0]);
  });

  it("at the cap, the longest idle member makes room", async () => {
    const { p, lease } = pool(2);
    const a = await lease("a");
    mock.timers.tick(10);
    const b = await lease("b");
    a.release();
    mock.timers.tick(10);
    b.release();
    const c = await lease("c");
    assert.equal(a.member.closed, "evicted");
    assert.equal(b.member.closed, undefined);
    assert.equal(c.member.key, "c");
    assert.deepEqual(p.counts(), { open: 2, busy: 1, max: 2 });
  });

  it("at the cap with every member busy, refuses a new key with 503 too_many_sessions", async () => {
    const { p, lease } = pool(2);
    const a = await lease("a");
    await lease("b");
    await assert.rejects(lease("c"), (error: unknown) => {
      assert.ok(error instanceof TooManySessionsError);
      assert.equal(error.httpStatus, 503);
      assert.equal(error.code, "too_many_sessions");
      assert.equal(error.retryAfterSeconds, 1);
      return true;
    });
    // A key that has a member is still served at the cap.
    const a2 = await lease("a");
    assert.equal(a2.member, a.member);
    assert.deepEqual(p.counts(), { open: 2, busy: 2, max: 2 });
  });

  it("drops a member that failed to open, and opens again on the next lease", async () => {
    const { p } = pool(1);
    await assert.rejects(
      p.acquire("a", async () => {
        throw new Error("401");
      }),
      /401/,
    );
    assert.deepEqual(p.counts(), { open: 0, busy: 0, max: 1 });
    const ok = await p.acquire("a", async () => ({ key: "a", gone: false }));
    assert.equal(ok.member.key, "a");
  });

  it("replaces a gone member on its key's next lease", async () => {
    const { lease, opened } = pool(2);
    const a = await lease("a");
    a.release();
    a.member.gone = true;
    const next = await lease("a");
    assert.equal(a.member.closed, "gone");
    assert.notEqual(next.member, a.member);
    assert.equal(opened.length, 2);
  });

  it("close() closes every member", async () => {
    const { p, lease } = pool(3);
    const a = await lease("a");
    const b = await lease("b");
    b.release();
    await p.close();
    assert.equal(a.member.closed, "closed");
    assert.equal(b.member.closed, "closed");
  });
});

describe("compileIdentityReader", () => {
  const read = compileIdentityReader({
    headers: ["authorization", "x-openwebui-user-*", "cookie"],
    templates: { "X-User": "user:{header.X-OpenWebUI-User-Email}" },
    maxSessions: 1,
    sessionIdleTimeoutMs: 1,
  });

  it("copies listed headers, prefix matches and rendered templates; nothing else", () => {
    const identity = read({
      authorization: "Bearer a",
      "x-openwebui-user-email": "a@x",
      "x-openwebui-user-id": "1",
      "x-other": "no",
      host: "h",
      "content-length": "2",
    });
    assert.deepEqual(identity.headers, {
      authorization: "Bearer a",
      "x-openwebui-user-email": "a@x",
      "x-openwebui-user-id": "1",
      "x-user": "user:a@x",
    });
  });

  it("leaves out a template whose header is absent (never half-filled)", () => {
    assert.deepEqual(read({ authorization: "Bearer a" }).headers, { authorization: "Bearer a" });
  });

  it("keys identities by every forwarded value, and only by them", () => {
    const a = read({ authorization: "Bearer a", "x-unrelated": "1" });
    assert.equal(a.key, read({ authorization: "Bearer a", "x-unrelated": "2" }).key);
    assert.notEqual(a.key, read({ authorization: "Bearer b" }).key);
    assert.notEqual(a.key, read({ authorization: "Bearer a", "x-openwebui-user-id": "1" }).key);
    assert.match(a.key, /^[0-9a-f]{64}$/);
  });

  it("a prefix never matches Authorization, Cookie or a header the proxy owns", () => {
    const wide = compileIdentityReader({
      headers: ["x-*", "a*", "c*", "m*"],
      templates: {},
      maxSessions: 1,
      sessionIdleTimeoutMs: 1,
    });
    const identity = wide({
      "x-a": "1",
      authorization: "Bearer k",
      cookie: "s=1",
      "mcp-session-id": "s",
      accept: "*/*",
      connection: "close",
      "x-tool-timeout": "5",
    });
    assert.deepEqual(identity.headers, { "x-a": "1" });
  });

  it("never shows its values when logged, inspected or serialized", () => {
    const identity = read({ authorization: "Bearer s3cret" });
    assert.ok(!JSON.stringify({ identity }).includes("s3cret"));
    assert.ok(!inspect(identity, { depth: 5, showHidden: true }).includes("s3cret"));
    assert.ok(!String(identity).includes("s3cret"));
  });
});
