import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it, mock } from "node:test";
import { isExpiring, keep, TokenStore } from "../../../../src/upstream/oauth/token-store.js";

const RESOURCE = "https://mcp.example.com/mcp";
const tokens = { access_token: "at-secret", token_type: "Bearer", refresh_token: "rt-secret", expires_in: 3600 };

describe("TokenStore", () => {
  const root = mkdtempSync(join(tmpdir(), "mcpo-token-store-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const fresh = (): string => join(root, `case-${++n}`, "oauth");

  it("creates the directory 0700 and files 0600, whatever the umask", () => {
    const dir = fresh();
    const old = process.umask(0o000);
    try {
      new TokenStore(dir, "gh", RESOURCE).update((content) => ({ ...content, tokens: keep(tokens) }));
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const [file] = readdirSync(dir);
    assert.equal(statSync(join(dir, file!)).mode & 0o777, 0o600);
  });

  it("tightens a directory an earlier run left open", () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    new TokenStore(dir, "gh", RESOURCE).write({ version: 1, resource: RESOURCE });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it("keeps one file per server and resource, named from the server and a hash of the resource URL", () => {
    const dir = fresh();
    const a = new TokenStore(dir, "gh", RESOURCE);
    const b = new TokenStore(dir, "gh", "https://other.example.com/mcp");
    const c = new TokenStore(dir, "", RESOURCE);
    assert.notEqual(a.file, b.file);
    assert.match(a.file, /\/gh-[0-9a-f]{16}\.json$/);
    assert.match(c.file, /\/default-[0-9a-f]{16}\.json$/);
    assert.ok(!a.file.includes("example"), "the URL itself is not in the name");
  });

  it("never uses a file written for another resource", () => {
    const dir = fresh();
    const store = new TokenStore(dir, "gh", RESOURCE);
    store.write({ version: 1, resource: RESOURCE, tokens: keep(tokens) });
    const content = JSON.parse(readFileSync(store.file, "utf8")) as { resource: string };
    writeFileSync(store.file, JSON.stringify({ ...content, resource: "https://evil.example.com/mcp" }));
    assert.equal(new TokenStore(dir, "gh", RESOURCE).read().tokens, undefined);
  });

  it("writes atomically (no temporary file left, the old content replaced whole)", () => {
    const dir = fresh();
    const store = new TokenStore(dir, "gh", RESOURCE);
    for (let i = 0; i < 20; i++) {
      store.update((content) => ({ ...content, tokens: keep({ ...tokens, access_token: `at-${i}` }) }));
    }
    assert.deepEqual(readdirSync(dir), [store.file.slice(dir.length + 1)]);
    assert.equal(new TokenStore(dir, "gh", RESOURCE).read().tokens?.access_token, "at-19");
  });

  it("reads the file again when another process changed it", () => {
    const dir = fresh();
    const proxy = new TokenStore(dir, "gh", RESOURCE);
    assert.equal(proxy.read().tokens, undefined);
    new TokenStore(dir, "gh", RESOURCE).update((content) => ({ ...content, tokens: keep(tokens) }));
    assert.equal(proxy.read().tokens?.access_token, "at-secret");
  });

  it("treats an unreadable file as empty", () => {
    const dir = fresh();
    const store = new TokenStore(dir, "gh", RESOURCE);
    store.write({ version: 1, resource: RESOURCE });
    writeFileSync(store.file, "{not json");
    assert.deepEqual(new TokenStore(dir, "gh", RESOURCE).read(), { version: 1, resource: RESOURCE });
  });

  describe("waitForChange", () => {
    afterEach(() => mock.timers.reset());

    it("resolves once the file changes, polling", async () => {
      const dir = fresh();
      const store = new TokenStore(dir, "gh", RESOURCE);
      store.write({ version: 1, resource: RESOURCE });
      mock.timers.enable({ apis: ["setInterval", "Date"], now: 0 });
      let done = false;
      const waiting = store
        .waitForChange(store.signature(), 60_000, new AbortController().signal)
        .then(() => (done = true));
      mock.timers.tick(1000);
      await Promise.resolve();
      assert.equal(done, false, "nothing changed yet");
      new TokenStore(dir, "gh", RESOURCE).write({ version: 1, resource: RESOURCE, tokens: keep(tokens) });
      mock.timers.tick(250);
      await waiting;
      assert.equal(done, true);
    });

    it("resolves after maxMs when nothing changes", async () => {
      const store = new TokenStore(fresh(), "gh", RESOURCE);
      mock.timers.enable({ apis: ["setInterval", "Date"], now: 0 });
      const waiting = store.waitForChange(store.signature(), 1000, new AbortController().signal);
      mock.timers.tick(1000);
      await waiting;
    });
  });
});

describe("token expiry", () => {
  it("makes expires_in absolute and treats a token within 30 s of expiry as expired", () => {
    const kept = keep({ ...tokens, expires_in: 3600 }, 1_000_000);
    assert.equal(kept.expires_at, 4_600_000);
    assert.equal(isExpiring(kept, 4_569_999), false);
    assert.equal(isExpiring(kept, 4_570_000), true);
    assert.equal(isExpiring(keep({ access_token: "x", token_type: "Bearer" })), false);
  });

  it("keeps a short-lived token usable for nine tenths of its life", () => {
    const kept = keep({ ...tokens, expires_in: 1 }, 1_000_000);
    assert.equal(isExpiring(kept, 1_000_000), false);
    assert.equal(isExpiring(kept, 1_000_899), false);
    assert.equal(isExpiring(kept, 1_000_900), true);
    const half = keep({ ...tokens, expires_in: 29 }, 0);
    assert.equal(isExpiring(half, 26_000), false);
    assert.equal(isExpiring(half, 26_100), true);
  });
});
