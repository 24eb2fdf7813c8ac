import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { configFile } from "../helpers/config-file.js";
import { run, stopAll, type Running } from "../helpers/processes.js";
import { CLI, startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FIXTURE = fileURLToPath(new URL("../fixtures/identity/server.ts", import.meta.url));

/** The identity fixture on a free port: its /mcp URL. */
async function startUpstream(
  mode: "legacy" | "modern",
  ...flags: string[]
): Promise<{ url: string; process: Running }> {
  const child = run(process.execPath, ["--import", "tsx", FIXTURE, mode, ...flags]);
  const port = await waitFor("the identity fixture to listen", () => /listening (\d+)/.exec(child.stdout())?.[1]);
  return { url: `http://127.0.0.1:${port}/mcp`, process: child };
}

const ALICE = { authorization: "Bearer alice-token-5f1c", "x-openwebui-user-email": "alice@example.com" };
const BOB = { authorization: "Bearer bob-token-9a7e", "x-openwebui-user-email": "bob@example.com" };
const SECRETS = [ALICE.authorization, BOB.authorization, "alice-token-5f1c", "bob-token-9a7e", "alice@example.com"];

interface Seen {
  headers: Record<string, string>;
  session: string | null;
  owner: string | null;
}

async function whoami(proxy: Proxy, headers: Record<string, string>, delayMs = 0, path = "/whoami"): Promise<Seen> {
  const answer = await proxy.post(path, { delay_ms: delayMs }, headers);
  assert.equal(answer.status, 200, answer.text);
  // (mcpo's shape: a text result that is JSON comes back parsed.)
  return (typeof answer.body === "string" ? JSON.parse(answer.body) : answer.body) as Seen;
}

/** Many calls of both identities at once, interleaved; each answer checked against its caller. */
async function interleave(
  proxy: Proxy,
  calls = 24,
  path = "/whoami",
  email = "x-openwebui-user-email",
): Promise<Map<string, Set<string | null>>> {
  const sessions = new Map<string, Set<string | null>>([
    [ALICE.authorization, new Set()],
    [BOB.authorization, new Set()],
  ]);
  await Promise.all(
    Array.from({ length: calls }, async (_, index) => {
      const who = index % 2 === 0 ? ALICE : BOB;
      const seen = await whoami(proxy, who, (index * 7) % 40, path);
      assert.equal(seen.headers.authorization, who.authorization, "the upstream saw the caller's own token");
      assert.equal(seen.headers[email], `${email === "x-user" ? "user=" : ""}${who["x-openwebui-user-email"]}`);
      if (seen.session !== null) assert.equal(seen.owner, who.authorization, "on a session the caller owns");
      sessions.get(who.authorization)!.add(seen.session);
    }),
  );
  return sessions;
}

function assertNoSecrets(text: string, where: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}`);
}

describe("forwarding to a 2025 upstream with sessions", () => {
  let upstream: { url: string; process: Running };
  let proxy: Proxy;
  before(async () => {
    upstream = await startUpstream("legacy");
    proxy = await startProxy(
      [
        "--server-type",
        "streamable-http",
        "--forward-header",
        "Authorization",
        "--forward-header",
        "X-OpenWebUI-User-*",
        "--log-level",
        "debug",
      ],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("two identities calling at the same time never see each other's session or token", async () => {
    const sessions = await interleave(proxy, 40);
    const alice = [...sessions.get(ALICE.authorization)!];
    const bob = [...sessions.get(BOB.authorization)!];
    assert.equal(alice.length, 1, "one upstream session per identity");
    assert.equal(bob.length, 1);
    assert.notEqual(alice[0], bob[0]);
    assert.ok(alice[0] !== null && bob[0] !== null);
    // Nothing ever used a session it did not open (the fixture counts every such request).
    const violations = await proxy.post("/violations", {}, ALICE);
    assert.equal(violations.body, 0);
  });

  it("redials a caller's session the upstream forgot, with the same caller's headers, and retries the call", async () => {
    const before = await whoami(proxy, ALICE);
    assert.equal((await proxy.post("/forget", {}, ALICE)).status, 200);
    const after = await whoami(proxy, ALICE);
    assert.notEqual(after.session, before.session);
    assert.equal(after.owner, ALICE.authorization);
    assert.equal((await whoami(proxy, BOB)).owner, BOB.authorization);
  });

  it("sends the caller's headers only: not other caller headers, not the proxy's own", async () => {
    const seen = await whoami(proxy, { ...ALICE, "x-tenant": "t1", cookie: "sid=1", "x-tool-timeout": "30" });
    assert.deepEqual(seen.headers, {
      authorization: ALICE.authorization,
      "x-openwebui-user-email": ALICE["x-openwebui-user-email"],
    });
  });

  it("reports counts only in /health", async () => {
    const health = await proxy.get("/health");
    assert.equal(health.status, 200);
    const forward = (health.body as Json).details.forward;
    assert.equal(forward.max_sessions, 100);
    assert.ok(forward.sessions_open >= 2, JSON.stringify(forward));
    assert.equal(forward.sessions_busy, 0);
    assertNoSecrets(health.text, "/health");
  });

  it("answers an upstream 401 on the forwarded credential with 401 upstream_unauthorized", async () => {
    for (const token of ["Bearer bad", "Bearer revoked-call"]) {
      const answer = await proxy.post("/whoami", {}, { authorization: token });
      assert.equal(answer.status, 401, token);
      assert.equal((answer.body as Json).detail.code, "upstream_unauthorized");
      assert.ok(!answer.text.includes(token), "the error does not quote the credential");
    }
  });

  it("answers an upstream 403 with 403 upstream_forbidden", async () => {
    for (const token of ["Bearer deny", "Bearer deny-call"]) {
      const answer = await proxy.post("/whoami", {}, { authorization: token });
      assert.equal(answer.status, 403, token);
      assert.equal((answer.body as Json).detail.code, "upstream_forbidden");
      assert.ok(!answer.text.includes(token));
    }
  });

  it("never writes a forwarded value to the log, even at debug", async () => {
    await proxy.waitForLog("a caller session opened", (line) => line.caller_session !== undefined);
    assertNoSecrets(proxy.process.stderr(), "the log");
    assert.ok(!proxy.process.stderr().includes("Bearer bad"));
  });
});

describe("forwarding to a 2026-07-28 upstream (sessionless)", () => {
  let proxy: Proxy;
  before(async () => {
    const upstream = await startUpstream("modern");
    proxy = await startProxy(
      ["--server-type", "streamable-http", "--forward-header", "Authorization,X-OpenWebUI-User-Email"],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("puts each caller's own headers on every request, with calls interleaved", async () => {
    const sessions = await interleave(proxy, 40);
    // No sessions on 2026-07-28: what keeps identities apart is the headers of each request.
    assert.deepEqual([...sessions.get(ALICE.authorization)!], [null]);
    assert.deepEqual([...sessions.get(BOB.authorization)!], [null]);
    assert.equal(((await proxy.get("/health")).body as Json).details.era, "modern");
  });
});

describe("the session bound", () => {
  let proxy: Proxy;
  before(async () => {
    const upstream = await startUpstream("legacy");
    proxy = await startProxy(
      [
        "--server-type",
        "streamable-http",
        "--forward-header",
        "Authorization",
        "--forward-max-sessions",
        "1",
        "--forward-session-idle-timeout",
        "1",
      ],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("refuses a new identity with 503 too_many_sessions while every session is busy, then serves it", async () => {
    const slow = whoami(proxy, ALICE, 1500);
    await waitFor("alice's call to hold the one session", async () => {
      const forward = ((await proxy.get("/health")).body as Json).details.forward;
      return forward.sessions_busy === 1;
    });
    const refused = await proxy.post("/whoami", {}, BOB);
    assert.equal(refused.status, 503);
    assert.equal((refused.body as Json).detail.code, "too_many_sessions");
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal((await slow).owner, ALICE.authorization);
    // Alice's session is idle now: Bob's takes its place.
    assert.equal((await whoami(proxy, BOB)).owner, BOB.authorization);
  });

  it("closes a session idle past session_idle_timeout, and ends it upstream", async () => {
    await whoami(proxy, ALICE);
    await waitFor(
      "the idle session to close",
      async () => ((await proxy.get("/health")).body as Json).details.forward.sessions_open === 0,
      5000,
    );
    // Every caller session so far was ended with DELETE: the upstream holds the shared one and the asker's only.
    const open = await proxy.post("/sessions", {}, { authorization: "Bearer carol" });
    assert.equal(open.body, 2);
  });
});

describe("an upstream that wants each caller's credentials even to list tools", () => {
  let upstream: { url: string; process: Running };
  before(async () => {
    upstream = await startUpstream("legacy", "--require-auth");
  });
  after(() => stopAll());

  it("lists the tools with the first caller's session; the document waits for one", async () => {
    const proxy = await startProxy(
      ["--server-type", "streamable-http", "--forward-header", "Authorization"],
      [upstream.url],
    );
    const health = await waitForHealth(proxy, 200);
    assert.match((health.body as Json).message, /callers with their own credentials only/);
    const early = await proxy.get("/openapi.json");
    assert.equal(early.status, 503);
    assert.match((early.body as Json).detail.message, /ask again with the forwarded headers/);
    const doc = await proxy.get("/openapi.json", { authorization: ALICE.authorization });
    assert.equal(doc.status, 200);
    assert.ok((doc.body as Json).paths["/whoami"]);
    // Now known to everyone (the tool list is not a secret); calls still run on each caller's session.
    assert.equal((await proxy.get("/openapi.json")).status, 200);
    assert.equal((await whoami(proxy, BOB)).owner, BOB.authorization);
    await proxy.stop();
  });

  it("is left out of the aggregated document, with a note, rather than waited for", async () => {
    const other = await startUpstream("legacy");
    const file = configFile({
      mcpServers: {
        gh: { type: "streamable-http", url: upstream.url, forward: { headers: ["Authorization"] } },
        open: { type: "streamable-http", url: other.url },
      },
    });
    const proxy = await startProxy(["--config", file.path], []);
    const doc = await waitFor("the aggregated document", async () => {
      const answer = await proxy.get("/openapi.json");
      return answer.status === 200 ? (answer.body as Json) : undefined;
    });
    assert.ok(doc.paths["/open/whoami"]);
    assert.equal(doc.paths["/gh/whoami"], undefined);
    assert.match(doc.info.description, /gh \(lists its tools only to callers with credentials/);
    const own = await proxy.get("/gh/openapi.json", { authorization: ALICE.authorization });
    assert.equal(own.status, 200);
    assert.ok(own.body && (own.body as Json).paths["/whoami"]);
    const tools = await proxy.get("/gh/tools");
    assert.ok(((tools.body as Json).tools as Json[]).some((tool) => tool.name === "whoami"));
    await proxy.stop();
  });

  it("a first tool call lists the tools with its caller's session, and runs", async () => {
    const proxy = await startProxy(
      ["--server-type", "streamable-http", "--forward-header", "Authorization"],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
    const seen = await whoami(proxy, ALICE);
    assert.equal(seen.owner, ALICE.authorization);
    const anonymous = await proxy.post("/whoami", {});
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as Json).detail.code, "upstream_unauthorized");
    await proxy.stop();
  });
});

describe("forward in a config file", () => {
  let proxy: Proxy;
  before(async () => {
    const upstream = await startUpstream("legacy");
    const file = configFile({
      mcpServers: {
        who: {
          type: "streamable-http",
          url: upstream.url,
          headers: { "X-Static": "from-config" },
          forward: {
            headers: ["Authorization"],
            templates: { "X-User": "user={header.X-OpenWebUI-User-Email}" },
            max_sessions: 10,
          },
        },
      },
    });
    proxy = await startProxy(["--config", file.path], []);
    await waitFor("the server to connect", async () => (await proxy.get("/who/health")).status === 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("renders templates from caller headers, keeps static headers, and keeps identities apart", async () => {
    const seen = await whoami(proxy, ALICE, 0, "/who/whoami");
    assert.deepEqual(seen.headers, {
      authorization: ALICE.authorization,
      "x-user": "user=alice@example.com",
      "x-static": "from-config",
    });
    const sessions = await interleave(proxy, 20, "/who/whoami", "x-user");
    assert.equal(sessions.get(ALICE.authorization)!.size, 1);
    const aggregate = await proxy.get("/health");
    assert.equal((aggregate.body as Json).servers.who.details.forward.max_sessions, 10);
    assertNoSecrets(aggregate.text, "/health");
  });

  it("leaves a template out when the header it reads is absent", async () => {
    const seen = await whoami(proxy, { authorization: BOB.authorization }, 0, "/who/whoami");
    assert.equal(seen.headers["x-user"], undefined);
  });
});

describe("refused at start", () => {
  after(() => stopAll());

  it("forwarding for a stdio server (one identity) and Authorization beside --api-key", async () => {
    for (const [args, message] of [
      [["--forward-header", "X-User", "--", "node", "server.js"], /stdio servers have one identity/],
      [
        [
          "--api-key",
          "k",
          "--server-type",
          "streamable-http",
          "--forward-header",
          "Authorization",
          "--",
          "http://127.0.0.1:9/mcp",
        ],
        /the upstream would receive the proxy's key/,
      ],
    ] as const) {
      const child = run(process.execPath, [CLI, "--port", "0", ...args]);
      const code = await waitFor("the proxy to exit", () =>
        child.child.exitCode === null ? undefined : child.child.exitCode,
      );
      assert.notEqual(code, 0);
      assert.match(child.stderr(), message);
    }
  });
});
