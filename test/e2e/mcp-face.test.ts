/**
 * The MCP face end to end: real MCP clients (the v2 SDK in both eras, the v1 SDK) over Streamable HTTP to the
 * built CLI, in front of real upstreams over stdio, legacy SSE and Streamable HTTP. What a client sees through us
 * must be what it would see talking to the upstream itself, and the REST face's guarantees must hold.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { STREAM_FIXTURE_STDIO } from "../fixtures/stream-server.js";
import { startV2Http, V2_STDIO } from "../fixtures/v2/index.js";
import { EVERYTHING_STDIO, startEverything, type RemoteServer } from "../helpers/everything.js";
import { signHs256 } from "../helpers/idp.js";
import { bare, CLIENT_KINDS, connectClient, rejection, type McpClient } from "../helpers/mcp-clients.js";
import { run, stopAll, type Running } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { freePort } from "../helpers/ports.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "5"];
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
};
const MCP_ACCEPT = { accept: "application/json, text/event-stream" };

/** A v2 client straight to the upstream: the reference the proxy's answers are compared with. */
async function direct(
  upstream: { stdio: readonly string[] } | { url: string } | { sse: string },
  modern = false,
): Promise<Client> {
  const client = new Client(
    { name: "direct", version: "0" },
    {
      versionNegotiation: modern ? { mode: "auto", probe: { timeoutMs: 10_000 } } : { mode: "legacy" },
      // What the proxy declares upstream: server-everything lists trigger-elicitation-request, trigger-sampling-request
      // and get-roots-list only to such a client.
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
    },
  );
  const [command, ...args] = "stdio" in upstream ? upstream.stdio : [];
  await client.connect(
    "url" in upstream
      ? new StreamableHTTPClientTransport(new URL(upstream.url))
      : "sse" in upstream
        ? new SSEClientTransport(new URL(upstream.sse))
        : new StdioClientTransport({ command: command!, args, stderr: "ignore" }),
  );
  return client;
}

/** Everything one client kind is checked against: the upstream's own answers. */
interface Reference {
  tools: Json[];
  echo: Json;
  resources?: { list: Json; templates: Json; read: Json; uri: string };
  prompts?: { list: Json; get: Json };
  completion?: Json;
}

const COMPLETE = {
  ref: { type: "ref/prompt", name: "completable-prompt" },
  argument: { name: "department", value: "E" },
};

async function referenceOf(client: Client, offers: boolean): Promise<Reference> {
  const reference: Reference = {
    tools: (await client.listTools()).tools as Json[],
    echo: bare(await client.callTool({ name: "echo", arguments: { message: "through us" } })),
  };
  if (!offers) return reference;
  // A static document: a dynamic one carries the time it was made.
  const uri = "demo://resource/static/document/architecture.md";
  reference.resources = {
    list: bare(await client.listResources()),
    templates: bare(await client.listResourceTemplates()),
    read: bare(await client.readResource({ uri })),
    uri,
  };
  reference.prompts = {
    list: bare(await client.listPrompts()),
    get: bare(await client.getPrompt({ name: "args-prompt", arguments: { city: "Lyon" } })),
  };
  reference.completion = bare(await client.complete(COMPLETE as never));
  return reference;
}

/** The same calls through the proxy, by one client kind, compared with the upstream's own answers. */
async function assertSameAsUpstream(client: McpClient, reference: Reference): Promise<void> {
  // The 2026-07-28 wire has no `execution` (tasks became an extension): the SDK drops it on that era's lists.
  const tools =
    client.era === "modern" ? reference.tools.map(({ execution: _dropped, ...tool }) => tool) : reference.tools;
  assert.deepEqual(await client.listTools(), tools, "tools/list: names, schemas, annotations");
  assert.deepEqual(bare(await client.callTool("echo", { message: "through us" })), reference.echo);
  if (!reference.resources) {
    assert.equal(client.capabilities?.resources, undefined, "no resources declared for an upstream without");
    assert.equal(client.capabilities?.prompts, undefined);
    return;
  }
  assert.deepEqual(bare(await client.listResources()), reference.resources.list);
  assert.deepEqual(bare(await client.listResourceTemplates()), reference.resources.templates);
  assert.deepEqual(bare(await client.readResource(reference.resources.uri)), reference.resources.read);
  assert.deepEqual(bare(await client.listPrompts()), reference.prompts!.list);
  assert.deepEqual(bare(await client.getPrompt("args-prompt", { city: "Lyon" })), reference.prompts!.get);
  assert.deepEqual(bare(await client.complete(COMPLETE)), reference.completion);
  assert.ok((reference.completion as Json).completion.values.length > 0, "the upstream completes");
}

/** server-everything's long-running operation through the proxy: every progress step reaches the client. */
async function assertProgress(client: McpClient): Promise<void> {
  const seen: Json[] = [];
  const result = await client.callTool(
    "trigger-long-running-operation",
    { duration: 0.6, steps: 3 },
    { onprogress: (progress) => void seen.push(progress) },
  );
  assert.deepEqual(
    seen.map(({ progress, total }) => ({ progress, total })),
    [1, 2, 3].map((progress) => ({ progress, total: 3 })),
  );
  assert.match(JSON.stringify(result.content), /Long running operation completed/);
}

describe("MCP face: real clients through the proxy, as if they talked to the upstream", () => {
  after(stopAll);

  const upstreams = [
    { name: "server-everything over stdio (started by the proxy)", kind: "stdio" },
    { name: "server-everything over legacy SSE", kind: "sse" },
    { name: "server-everything over Streamable HTTP", kind: "streamableHttp" },
    { name: "a 2026-07-28-only v2 server over Streamable HTTP", kind: "modern" },
  ] as const;

  for (const upstream of upstreams) {
    describe(upstream.name, () => {
      let proxy: Proxy;
      let reference: Reference;
      let remote: RemoteServer | undefined;
      before(async () => {
        let reach: { stdio: readonly string[] } | { url: string } | { sse: string };
        if (upstream.kind === "stdio") {
          proxy = await startProxy([], EVERYTHING_STDIO);
          reach = { stdio: EVERYTHING_STDIO };
        } else if (upstream.kind === "modern") {
          const server = await startV2Http({ era: "modern-only" });
          proxy = await startProxy(["--type", "streamable-http"], [server.url]);
          reach = { url: server.url };
        } else {
          remote = await startEverything(upstream.kind);
          proxy = await startProxy(["--type", upstream.kind === "sse" ? "sse" : "streamable-http"], [remote.url]);
          reach = upstream.kind === "sse" ? { sse: remote.url } : { url: remote.url };
        }
        await waitForHealth(proxy, 200);
        const client = await direct(reach, upstream.kind === "modern");
        reference = await referenceOf(client, upstream.kind !== "modern");
        await client.close();
      });
      after(() => proxy?.stop());

      for (const kind of CLIENT_KINDS) {
        it(`${kind}: tools (names, schemas, annotations), a call, resources, prompts and completion as upstream`, async () => {
          const client = await connectClient(kind, `${proxy.url}/mcp`);
          try {
            assert.equal(client.era, kind === "v2 2026-07-28" ? "modern" : "legacy");
            await assertSameAsUpstream(client, reference);
            if (upstream.kind !== "modern") await assertProgress(client);
          } finally {
            await client.close();
          }
        });
      }

      // A stdio server started by us, usable remotely: requests for input reach the client that made the call.
      if (upstream.kind === "stdio") {
        for (const kind of CLIENT_KINDS) {
          it(`${kind}: trigger-elicitation-request asks the client, whose answer reaches the server`, async () => {
            const asked: Json[] = [];
            const client = await connectClient(kind, `${proxy.url}/mcp`, {
              elicit: (params) => {
                asked.push(params);
                return { action: "accept", content: { name: `Ada via ${kind}` } };
              },
            });
            try {
              const result = await client.callTool("trigger-elicitation-request", {});
              assert.equal(asked.length, 1, "the client was asked once");
              assert.ok(asked[0]!.requestedSchema.required.includes("name"));
              const text = JSON.stringify(result.content);
              assert.match(text, /User provided the requested information/);
              assert.match(text, new RegExp(`Ada via ${kind}`));
            } finally {
              await client.close();
            }
          });
        }

        it("v2 2025: a client that declared no elicitation gets the REST policy's answer (409 input_required: no defaults)", async () => {
          const client = await connectClient("v2 2025", `${proxy.url}/mcp`);
          try {
            const error = await rejection(client.callTool("trigger-elicitation-request", {}));
            assert.equal(error.code, -32603, JSON.stringify(error));
            assert.equal(error.data.status, 409);
            assert.equal(error.data.code, "input_required");
            assert.match(error.message, /required field name has no default/);
          } finally {
            await client.close();
          }
        });
      }
    });
  }
});

describe("MCP face: cancellation and log messages reach the other side", () => {
  after(stopAll);

  describe("a stdio upstream started by the proxy, one call at a time (--max-concurrency 1)", () => {
    let proxy: Proxy;
    before(async () => {
      proxy = await startProxy(["--max-concurrency", "1", ...FAST], STREAM_FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
    });
    after(() => proxy?.stop());

    for (const kind of CLIENT_KINDS) {
      it(`${kind}: aborting a call cancels it upstream and ends the proxy's call`, async () => {
        const client = await connectClient(kind, `${proxy.url}/mcp`);
        try {
          const tag = `cancel-${kind.replace(/\W/g, "")}`;
          const caller = new AbortController();
          const call = client.callTool(
            "steps",
            { steps: 100, ms: 100, tag },
            { signal: caller.signal, onprogress: () => caller.abort() },
          );
          await assert.rejects(call);
          await proxy.waitForLog(
            "the cancellation upstream",
            (line) => line.msg === `stream-fixture: steps ${tag} cancelled`,
          );
          // The one slot is free again at once: the proxy's call ended with the caller's.
          const started = Date.now();
          const next = await client.callTool("steps", { steps: 1, ms: 1, tag: "next" }, { timeout: 3000 });
          assert.deepEqual(next.content, [{ type: "text", text: "next done after 1 steps" }]);
          assert.ok(Date.now() - started < 2000);
        } finally {
          await client.close();
        }
      });
    }
  });

  describe("a Streamable HTTP upstream that logs about each call", () => {
    let proxy: Proxy;
    let upstream: Running;
    before(async () => {
      upstream = run(STREAM_FIXTURE_STDIO[0]!, STREAM_FIXTURE_STDIO.slice(1), { STREAM_FIXTURE_HTTP_PORT: "0" });
      const port = await waitFor("the stream fixture to listen", () => /listening (\d+)/.exec(upstream.stdout())?.[1]);
      proxy = await startProxy(["--type", "streamable-http", ...FAST], [`http://127.0.0.1:${port}/mcp`]);
      await waitForHealth(proxy, 200);
    });
    after(() => proxy?.stop());

    for (const kind of CLIENT_KINDS) {
      it(`${kind}: the call's log messages and progress reach the client`, async () => {
        const client = await connectClient(kind, `${proxy.url}/mcp`);
        try {
          const tag = `log-${kind.replace(/\W/g, "")}`;
          const progress: Json[] = [];
          const result = await client.callTool(
            "steps",
            { steps: 2, ms: 30, tag },
            { onprogress: (p) => void progress.push(p) },
          );
          assert.deepEqual(result.content, [{ type: "text", text: `${tag} done after 2 steps` }]);
          assert.deepEqual(
            progress.map((p) => p.message),
            ["step 1 of 2", "step 2 of 2"],
          );
          assert.deepEqual(
            client.logs.map((log) => ({ level: log.level, logger: log.logger, data: log.data })),
            [1, 2].map((step) => ({ level: "info", logger: "stream-fixture", data: `${tag} step ${step}` })),
          );
        } finally {
          await client.close();
        }
      });
    }

    it("v2 2026-07-28: aborting a call closes its stream, which cancels it upstream", async () => {
      const client = await connectClient("v2 2026-07-28", `${proxy.url}/mcp`);
      try {
        const caller = new AbortController();
        const call = client.callTool(
          "steps",
          { steps: 100, ms: 100, tag: "http-gone" },
          { signal: caller.signal, onprogress: () => caller.abort() },
        );
        await assert.rejects(call);
        await waitFor("the cancellation upstream", () =>
          upstream.stderr().includes("stream-fixture: steps http-gone cancelled"),
        );
      } finally {
        await client.close();
      }
    });
  });
});

interface RawAnswer {
  status: number;
  headers: Headers;
  /** The JSON-RPC messages of the answer, whether it came as JSON or as an event stream. */
  messages: Json[];
}

/** One raw HTTP request to an MCP endpoint (what a client's transport sends), read whole. */
async function raw(
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const response = await fetch(url, {
    method,
    headers: { ...MCP_ACCEPT, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const messages = response.headers.get("content-type")?.startsWith("text/event-stream")
    ? text
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => JSON.parse(line.slice(5)) as Json)
    : text
      ? [JSON.parse(text) as Json]
      : [];
  return { status: response.status, headers: response.headers, messages };
}

/** Opens a 2025 session by hand; returns its id. */
async function openSession(url: string, headers: Record<string, string>): Promise<string> {
  const answer = await raw(url, "POST", INITIALIZE, headers);
  assert.equal(answer.status, 200, JSON.stringify(answer.messages));
  const id = answer.headers.get("mcp-session-id");
  assert.ok(id, "a session id");
  const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
  const session = { ...headers, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
  assert.equal((await raw(url, "POST", initialized, session)).status, 202);
  return id;
}

const LIST_TOOLS = { jsonrpc: "2.0", id: 2, method: "tools/list" };

describe("MCP face: the REST side's guarantees", () => {
  after(stopAll);

  describe("keys, origins, sessions, unknown tools and timeouts (--api-key, --cors-allow-origins, --tool-timeout)", () => {
    const KEY = "face-key";
    const ALLOWED = "http://allowed.example";
    let proxy: Proxy;
    let url: string;
    before(async () => {
      proxy = await startProxy(
        ["--api-key", KEY, "--cors-allow-origins", ALLOWED, "--tool-timeout", "0.5", ...FAST],
        [...V2_STDIO.dual],
      );
      await waitForHealth(proxy, 200);
      url = `${proxy.url}/mcp`;
    });
    after(() => proxy?.stop());

    it("answers 401 without a key and 403 with a wrong one, as REST does, and serves Authorization: Bearer <key>", async () => {
      const missing = await raw(url, "POST", INITIALIZE);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get("www-authenticate"), "Bearer");
      assert.equal((await raw(url, "GET", undefined)).status, 401, "the GET stream too");
      assert.equal((await raw(url, "DELETE", undefined)).status, 401, "and DELETE");
      const wrong = await raw(url, "POST", INITIALIZE, { authorization: "Bearer not-the-key" });
      assert.equal(wrong.status, 403);
      assert.equal((await proxy.post("/echo", { message: "x" }, { authorization: "Bearer not-the-key" })).status, 403);
      for (const kind of CLIENT_KINDS) {
        const client = await connectClient(kind, url, { headers: { authorization: `Bearer ${KEY}` } });
        const result = await client.callTool("echo", { message: kind });
        assert.deepEqual(result.content, [{ type: "text", text: `Echo: ${kind}` }], kind);
        await client.close();
      }
    });

    it("refuses an Origin that is not allowed (403) and serves an allowed one", async () => {
      const auth = { authorization: `Bearer ${KEY}` };
      const refused = await raw(url, "POST", INITIALIZE, { ...auth, origin: "http://evil.example" });
      assert.equal(refused.status, 403);
      const allowed = await raw(url, "POST", INITIALIZE, { ...auth, origin: ALLOWED });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers.get("access-control-allow-origin"), ALLOWED);
      assert.match(allowed.headers.get("access-control-expose-headers") ?? "", /mcp-session-id/i);
    });

    it("answers an unknown tool with -32602 in every client", async () => {
      for (const kind of CLIENT_KINDS) {
        const client = await connectClient(kind, url, { headers: { authorization: `Bearer ${KEY}` } });
        const error = await rejection(client.callTool("no-such-tool", {}));
        assert.equal(error.code, -32602, `${kind}: ${error.message}`);
        assert.match(error.message, /no-such-tool/);
        await client.close();
      }
    });

    it("fails a call past the tool timeout at once with data.status 504 (upstream_timeout), and cancels it upstream", async () => {
      for (const kind of CLIENT_KINDS) {
        const client = await connectClient(kind, url, { headers: { authorization: `Bearer ${KEY}` } });
        const started = Date.now();
        const error = await rejection(client.callTool("sleep", { ms: 5000 }));
        assert.ok(Date.now() - started < 3000, `${kind}: answered after ${Date.now() - started} ms`);
        assert.equal(error.code, -32603, kind);
        assert.equal(error.data.status, 504, `${kind}: ${JSON.stringify(error)}`);
        assert.equal(error.data.code, "upstream_timeout", kind);
        await client.close();
      }
      await proxy.waitForLog(
        "the timed-out call cancelled upstream",
        (line) => line.msg === "v2 fixture: sleep 5000 cancelled",
      );
    });

    it("ends a session on DELETE, and answers 404 for a session that does not exist", async () => {
      const auth = { authorization: `Bearer ${KEY}` };
      const id = await openSession(url, auth);
      const session = { ...auth, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
      const listed = await raw(url, "POST", LIST_TOOLS, session);
      assert.equal(listed.status, 200);
      assert.ok(listed.messages[0]!.result.tools.some((tool: Json) => tool.name === "echo"));
      assert.equal((await raw(url, "DELETE", undefined, session)).status, 200);
      assert.equal((await raw(url, "POST", LIST_TOOLS, session)).status, 404, "gone after DELETE");
      const unknown = { ...session, "mcp-session-id": "00000000-0000-4000-8000-000000000000" };
      const answer = await raw(url, "POST", LIST_TOOLS, unknown);
      assert.equal(answer.status, 404);
      assert.equal(answer.messages[0]!.error.code, -32001);
      assert.equal((await raw(url, "GET", undefined, unknown)).status, 404);
    });
  });

  describe("a session belongs to the caller who opened it (--api-key and Open WebUI's user header)", () => {
    const KEY = "shared-gateway-key";
    const SECRET = "webui-secret-shared-with-the-proxy";
    let proxy: Proxy;
    let url: string;
    let ada: Record<string, string>;
    let bob: Record<string, string>;
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), "mcpo-face-"));
      writeFileSync(join(dir, "secret"), SECRET);
      proxy = await startProxy(
        ["--api-key", KEY, "--jwt-secret-file", join(dir, "secret"), ...FAST],
        [...V2_STDIO.dual],
      );
      await waitForHealth(proxy, 200);
      url = `${proxy.url}/mcp`;
      ada = { "x-openwebui-user-jwt": await signHs256(SECRET, { sub: "ada", email: "ada@example.com" }) };
      bob = { "x-openwebui-user-jwt": await signHs256(SECRET, { sub: "bob", email: "bob@example.com" }) };
    });
    after(() => proxy?.stop());

    const reuse = async (owner: Record<string, string>, other: Record<string, string>): Promise<number> => {
      const id = await openSession(url, owner);
      const session = { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
      assert.equal((await raw(url, "POST", LIST_TOOLS, { ...owner, ...session })).status, 200, "its owner may");
      return (await raw(url, "POST", LIST_TOOLS, { ...other, ...session })).status;
    };

    it("answers 404 to another Authorization", async () => {
      assert.equal(await reuse({ authorization: `Bearer ${KEY}` }, bob), 404);
    });

    it("answers 404 to another Open WebUI user sending the same key (Open WebUI sends the key and the user)", async () => {
      const key = { authorization: `Bearer ${KEY}` };
      assert.equal(await reuse({ ...key, ...ada }, { ...key, ...bob }), 404);
    });

    it("answers 404 to another Open WebUI user without a key", async () => {
      assert.equal(await reuse(ada, bob), 404);
    });

    it("cancels a session's call upstream when the client ends the session with DELETE", async () => {
      const key = { authorization: `Bearer ${KEY}` };
      const id = await openSession(url, key);
      const session = { ...key, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
      const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "sleep", arguments: { ms: 8000 } } };
      const answer = raw(url, "POST", call, session).catch(() => undefined);
      await proxy.waitForLog("the call to start", (line) => line.msg === "v2 fixture: sleep 8000 started");
      assert.equal((await raw(url, "DELETE", undefined, session)).status, 200);
      await proxy.waitForLog("the cancellation upstream", (line) => line.msg === "v2 fixture: sleep 8000 cancelled");
      await answer;
    });

    it("keeps serving the same user when Open WebUI signs a new token for them", async () => {
      const again = { "x-openwebui-user-jwt": await signHs256(SECRET, { sub: "ada", email: "ada@example.com", n: 2 }) };
      assert.notEqual(again["x-openwebui-user-jwt"], ada["x-openwebui-user-jwt"]);
      assert.equal(await reuse(ada, again), 200);
    });
  });

  describe("sessions bounded in number and idle time (--mcp-max-sessions 1, --mcp-session-idle-timeout 1)", () => {
    let proxy: Proxy;
    let url: string;
    before(async () => {
      proxy = await startProxy(
        ["--mcp-max-sessions", "1", "--mcp-session-idle-timeout", "1", ...FAST],
        STREAM_FIXTURE_STDIO,
      );
      await waitForHealth(proxy, 200);
      url = `${proxy.url}/mcp`;
    });
    after(() => proxy?.stop());

    it("refuses a session beyond the bound (503, Retry-After), and closes one left idle (404 afterwards)", async () => {
      const first = await openSession(url, {});
      const refused = await raw(url, "POST", INITIALIZE);
      assert.equal(refused.status, 503);
      assert.ok(refused.headers.get("retry-after"));
      assert.match(refused.messages[0]!.error.message, /Too many MCP sessions/);
      const session = { "mcp-session-id": first, "mcp-protocol-version": "2025-11-25" };
      // Left alone (a request would keep it alive): closed by the sweep, which runs every second here.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal((await raw(url, "POST", LIST_TOOLS, session)).status, 404);
    });

    it("keeps a session whose call is still running open past the idle timeout", async () => {
      const id = await openSession(url, {});
      const session = { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
      const call = {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "steps", arguments: { steps: 25, ms: 100, tag: "long" } },
      };
      const answer = await raw(url, "POST", call, session);
      assert.deepEqual(answer.messages.at(-1)?.result?.content, [{ type: "text", text: "long done after 25 steps" }]);
      assert.equal(proxy.logs().filter((line) => line.msg === "stream-fixture: steps long cancelled").length, 0);
      assert.equal((await raw(url, "POST", LIST_TOOLS, session)).status, 200, "still open once its call ended");
    });
  });

  describe("an upstream that is down", () => {
    it("fails a call with data.status 503 (upstream_unavailable) once the upstream went away, as soon as REST does", async () => {
      const upstream = await startV2Http({ era: "dual" });
      // A call waits for a reconnect at most --connection-timeout, on both faces: 1 s here.
      const proxy = await startProxy(
        ["--type", "streamable-http", ...FAST, "--connection-timeout", "1"],
        [upstream.url],
      );
      await waitForHealth(proxy, 200);
      const clients = await Promise.all(CLIENT_KINDS.map((kind) => connectClient(kind, `${proxy.url}/mcp`)));
      await upstream.stop();
      const rest = await proxy.post("/echo", { message: "anyone?" });
      assert.equal(rest.status, 503);
      for (const client of clients) {
        const started = Date.now();
        const error = await rejection(client.callTool("echo", { message: "anyone?" }));
        assert.ok(Date.now() - started < 2500, `${client.kind}: answered after ${Date.now() - started} ms`);
        assert.equal(error.code, -32603, `${client.kind}: ${JSON.stringify(error)}`);
        assert.equal(error.data.status, 503, `${client.kind}: ${JSON.stringify(error)}`);
        assert.equal(error.data.code, "upstream_unavailable", client.kind);
        await client.close();
      }
      await proxy.stop();
    });

    it("fails a call with data.status 503 when the upstream was never reached, as REST answers 503", async () => {
      const proxy = await startProxy(
        ["--type", "streamable-http", ...FAST, "--connection-timeout", "1"],
        [`http://127.0.0.1:${await freePort()}/mcp`],
      );
      const rest = await proxy.post("/echo", { message: "x" });
      assert.equal(rest.status, 503);
      const client = await connectClient("v2 2025", `${proxy.url}/mcp`);
      const error = await rejection(client.callTool("echo", { message: "anyone?" }));
      assert.equal(error.data.status, 503, JSON.stringify(error));
      assert.equal(error.data.code, "upstream_unavailable");
      await client.close();
      await proxy.stop();
    });
  });
});
