import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { configFile } from "../helpers/config-file.js";
import { EVERYTHING_ENTRY, startEverything, type RemoteServer } from "../helpers/everything.js";
import { signHs256 } from "../helpers/idp.js";
import { listToolsDirectly } from "../helpers/list-tools.js";
import { assertOpenWebUiReadsEveryTool } from "../helpers/open-webui-check.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Answer, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";
import { fileURLToPath } from "node:url";

type Json = Record<string, any>;
const KEY = "gateway-key";
const SECRET = "webui-secret-shared-with-mcpo";
const TOOL = "simulate-research-query";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** DELETE (the proxy helper has only POST and GET). */
async function del(proxy: Proxy, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${proxy.url}${path}`, {
    method: "DELETE",
    headers,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : text, text };
}

/** Polls GET Location until the task has ended. */
function ended(proxy: Proxy, location: string, headers: Record<string, string>): Promise<Answer> {
  return waitFor(
    "the task to end",
    async () => {
      const answer = await proxy.get(location, headers);
      return ["working", "input_required"].includes((answer.body as Json).status) ? undefined : answer;
    },
    15_000,
    200,
  );
}

/** Lines server-everything writes when a cancelled task's work goes on and finds its task cancelled. */
function cancelledUpstream(proxy: Proxy): number {
  return proxy.logs().filter((line) => String(line.msg).includes('from terminal status "cancelled"')).length;
}

describe("tasks over stdio (config mode, root path, callers told apart by their Open WebUI user)", () => {
  let proxy: Proxy;
  let ada: Record<string, string>;
  let bob: Record<string, string>;
  const base = "/base/ev";

  before(async () => {
    const config = configFile({
      auth: { jwt_secret: SECRET },
      mcpServers: { ev: { command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] } },
    });
    proxy = await startProxy(["--config", config.path, "--api-key", KEY, "--root-path", "/base"], []);
    await waitForHealth(proxy, 200);
    const as = async (id: string) => ({
      authorization: `Bearer ${KEY}`,
      "X-OpenWebUI-User-Jwt": await signHs256(SECRET, { sub: id, email: `${id}@example.com` }),
    });
    ada = await as("ada");
    bob = await as("bob");
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  let blockingBody: unknown;
  it("runs a task-required tool to its end and answers 200 with its result, as a plain call would", async () => {
    const startedAt = Date.now();
    const { status, body, headers } = await proxy.post(`/ev/${TOOL}`, { topic: "oceans" }, ada);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(headers.get("preference-applied"), null);
    assert.match(String(body), /^# Research Report: oceans\n/);
    assert.match(String(body), /Stage 4: Generating report ✓/);
    assert.ok(Date.now() - startedAt >= 3000, "four stages of one second each");
    blockingBody = body;
  });

  it("with Prefer: respond-async answers 202 and a Location to poll, then the same result once completed", async () => {
    const accepted = await proxy.post(`/ev/${TOOL}`, { topic: "oceans" }, { ...ada, Prefer: "respond-async" });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.headers.get("preference-applied"), "respond-async");
    const body = accepted.body as Json;
    assert.match(body.task_id, UUID);
    assert.equal(body.status, "working");
    assert.equal(body.location, `${base}/tasks/${body.task_id}`);
    assert.equal(accepted.headers.get("location"), body.location);

    const path = `/ev/tasks/${body.task_id}`;
    const working = await proxy.get(path, ada);
    assert.equal(working.status, 200);
    assert.equal((working.body as Json).status, "working");
    assert.equal((working.body as Json).tool, TOOL);
    assert.equal(working.headers.get("retry-after"), "1");
    const done = await ended(proxy, path, ada);
    const task = done.body as Json;
    assert.equal(task.status, "completed");
    assert.deepEqual(task.result, blockingBody);
    assert.equal(task.poll_interval_ms, 1000);
    assert.ok(!Number.isNaN(Date.parse(task.created_at)));
    assert.equal(done.headers.get("retry-after"), null);
  });

  it("hides a task from every other caller (404), and 404s an unknown id", async () => {
    const accepted = await proxy.post(`/ev/${TOOL}`, { topic: "mine" }, { ...ada, Prefer: "respond-async" });
    const path = `/ev/tasks/${(accepted.body as Json).task_id}`;
    const other = await proxy.get(path, bob);
    assert.equal(other.status, 404);
    assert.equal((other.body as Json).detail.code, "unknown_task");
    assert.equal((await del(proxy, path, bob)).status, 404);
    assert.equal((await proxy.get(path, ada)).status, 200);
    const unknown = await proxy.get("/ev/tasks/00000000-0000-4000-8000-000000000000", ada);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as Json).detail.code, "unknown_task");
    assert.equal((await proxy.get(path)).status, 401, "the task routes are guarded as tool calls");
    await del(proxy, path, ada);
  });

  it("DELETE cancels a running task upstream: 200 cancelled, then GET says cancelled, a second DELETE 409", async () => {
    const before = cancelledUpstream(proxy);
    const accepted = await proxy.post(`/ev/${TOOL}`, { topic: "stop me" }, { ...ada, Prefer: "respond-async" });
    const path = `/ev/tasks/${(accepted.body as Json).task_id}`;
    const cancelled = await del(proxy, path, ada);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal((cancelled.body as Json).status, "cancelled");
    assert.equal((cancelled.body as Json).error.detail.code, "task_cancelled");
    assert.equal(((await proxy.get(path, ada)).body as Json).status, "cancelled");
    const again = await del(proxy, path, ada);
    assert.equal(again.status, 409);
    assert.equal((again.body as Json).detail.code, "task_finished");
    // The server's own side: its work goes on, finds the task cancelled and says so on stderr.
    await waitFor("server-everything to see the task cancelled", () => cancelledUpstream(proxy) > before);
  });

  it("ignores Prefer: respond-async on a tool that does not run as a task (200, no Preference-Applied)", async () => {
    const { status, body, headers } = await proxy.post(
      "/ev/echo",
      { message: "hi" },
      { ...ada, Prefer: "respond-async" },
    );
    assert.equal(status, 200);
    assert.equal(body, "Echo: hi");
    assert.equal(headers.get("preference-applied"), null);
  });

  it("bounds a blocking task by the tool timeout: X-Tool-Timeout: 1 answers 504 and cancels the task upstream", async () => {
    const before = cancelledUpstream(proxy);
    const startedAt = Date.now();
    const { status, body } = await proxy.post(`/ev/${TOOL}`, { topic: "slow" }, { ...ada, "X-Tool-Timeout": "1" });
    assert.equal(status, 504);
    assert.equal((body as Json).detail.code, "upstream_timeout");
    assert.match((body as Json).detail.message, /cancelled upstream/);
    assert.ok(Date.now() - startedAt < 3000);
    await waitFor("server-everything to see the task cancelled", () => cancelledUpstream(proxy) > before);
  });

  it("answers the input a task asks for by the elicitation policy (declined by default) and does not hang", async () => {
    const { status, body } = await proxy.post(`/ev/${TOOL}`, { topic: "python", ambiguous: true }, ada);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(String(body), /Clarification\*\*: User declined - using default interpretation/);
  });

  it("answers honestly for a task whose upstream session ended: failed, task_lost (502), not a hang", async () => {
    const accepted = await proxy.post(`/ev/${TOOL}`, { topic: "lost" }, { ...ada, Prefer: "respond-async" });
    const path = `/ev/tasks/${(accepted.body as Json).task_id}`;
    // The proxy's child is server-everything: killed, its tasks are gone with it.
    const child = Number(
      execFileSync("pgrep", ["-P", String(proxy.process.child.pid)])
        .toString()
        .trim()
        .split("\n")[0],
    );
    process.kill(child, "SIGKILL");
    const done = await ended(proxy, path, ada);
    const task = done.body as Json;
    assert.equal(task.status, "failed");
    assert.equal(task.error.status, 502);
    assert.equal(task.error.detail.code, "task_lost");
    assert.match(task.error.detail.message, /upstream session that ran the task/);
    await waitForHealth(proxy, 200);
    const again = await proxy.post(`/ev/${TOOL}`, { topic: "after" }, ada);
    assert.equal(again.status, 200, "the reconnected session runs tasks again");
  });
});

describe("tasks in the OpenAPI document", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy([], [process.execPath, EVERYTHING_ENTRY, "stdio"]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("documents the 202 of a task tool and GET/DELETE /tasks/{id} without operationId; it validates", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    await SwaggerParser.validate(structuredClone(doc) as never);
    const call = doc.paths[`/${TOOL}`].post;
    assert.deepEqual(Object.keys(call.responses["202"].headers).sort(), ["Location", "Preference-Applied"]);
    assert.equal(call.responses["202"].content["application/json"].schema.required[0], "task_id");
    assert.match(call.description, /Prefer: respond-async/);
    assert.equal(call.parameters, undefined, "no header parameter the model would be asked to fill in");
    assert.equal(doc.components.parameters.PreferRespondAsync.in, "header");
    const task = doc.paths["/tasks/{id}"];
    assert.deepEqual(Object.keys(task).sort(), ["delete", "get"]);
    assert.equal(task.get.operationId, undefined);
    assert.equal(task.delete.operationId, undefined);
    assert.equal(doc.paths["/echo"].post.responses["202"], undefined, "a plain tool has no 202");
  });

  it("leaves every tool readable by Open WebUI, the task tool with exactly its own parameters", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    const tools = await listToolsDirectly([process.execPath, EVERYTHING_ENTRY, "stdio"]);
    const converted = assertOpenWebUiReadsEveryTool(doc, tools);
    assert.deepEqual(Object.keys(converted.get(TOOL)!.parameters.properties).sort(), ["ambiguous", "topic"]);
  });
});

describe("tasks over Streamable HTTP (single mode, no auth)", () => {
  let server: RemoteServer;
  let proxy: Proxy;
  before(async () => {
    server = await startEverything("streamableHttp");
    proxy = await startProxy(["--type", "streamable-http"], [server.url]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
    await stopAll();
  });

  it("runs a task-required tool blocking (200) and with Prefer: respond-async (202, then the same result)", async () => {
    const blocking = await proxy.post(`/${TOOL}`, { topic: "rivers" });
    assert.equal(blocking.status, 200, blocking.text);
    assert.match(String(blocking.body), /^# Research Report: rivers\n/);
    const accepted = await proxy.post(`/${TOOL}`, { topic: "rivers" }, { Prefer: "respond-async" });
    assert.equal(accepted.status, 202, accepted.text);
    const location = accepted.headers.get("location")!;
    assert.match(location, /^\/tasks\/[0-9a-f-]{36}$/);
    const done = await ended(proxy, location, {});
    assert.equal((done.body as Json).status, "completed");
    assert.deepEqual((done.body as Json).result, blocking.body);
  });

  it("cancels a running task with DELETE and bounds a blocking one by X-Tool-Timeout", async () => {
    const accepted = await proxy.post(`/${TOOL}`, { topic: "stop" }, { Prefer: "respond-async" });
    const location = accepted.headers.get("location")!;
    const cancelled = await del(proxy, location);
    assert.equal(cancelled.status, 200);
    assert.equal((cancelled.body as Json).status, "cancelled");
    const timedOut = await proxy.post(`/${TOOL}`, { topic: "slow" }, { "X-Tool-Timeout": "1" });
    assert.equal(timedOut.status, 504);
  });

  it("answers a task's request for input (it comes on tasks/result here too) by the policy", async () => {
    const { status, body } = await proxy.post(`/${TOOL}`, { topic: "python", ambiguous: true });
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(String(body), /Clarification\*\*: User declined - using default interpretation/);
  });
});

describe("tasks over SSE", () => {
  let server: RemoteServer;
  let proxy: Proxy;
  before(async () => {
    server = await startEverything("sse");
    proxy = await startProxy(["--type", "sse"], [server.url]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
    await stopAll();
  });

  it("runs a task-required tool blocking (200) and with Prefer: respond-async (202, then completed)", async () => {
    const blocking = await proxy.post(`/${TOOL}`, { topic: "lakes" });
    assert.equal(blocking.status, 200, blocking.text);
    assert.match(String(blocking.body), /^# Research Report: lakes\n/);
    const accepted = await proxy.post(`/${TOOL}`, { topic: "lakes" }, { Prefer: "respond-async" });
    assert.equal(accepted.status, 202, accepted.text);
    const done = await ended(proxy, accepted.headers.get("location")!, {});
    assert.deepEqual((done.body as Json).result, blocking.body);
  });
});

describe("a 2026-07-28 server with the tasks extension", () => {
  let proxy: Proxy;
  before(async () => {
    const fixture = fileURLToPath(new URL("../fixtures/v2/tasks-2026.ts", import.meta.url));
    proxy = await startProxy([], [process.execPath, "--import", "tsx", fixture]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("is called plainly (the proxy does not declare the extension), Prefer: respond-async ignored", async () => {
    for (const headers of [{}, { Prefer: "respond-async" }] as Record<string, string>[]) {
      const { status, body, headers: answer } = await proxy.post("/research", { topic: "x" }, headers);
      assert.equal(status, 200);
      assert.equal(body, "ran inline: x");
      assert.equal(answer.get("preference-applied"), null);
    }
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.equal(doc.paths["/research"].post.responses["202"], undefined);
    assert.equal(doc.paths["/tasks/{id}"], undefined);
  });
});

describe("a tool whose task support is optional, and a task that fails (2025-11-25 fixture)", () => {
  let proxy: Proxy;
  before(async () => {
    const fixture = fileURLToPath(new URL("../fixtures/tasks/optional-task-server.ts", import.meta.url));
    proxy = await startProxy([], [process.execPath, "--import", "tsx", fixture]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("calls an optional tool plainly without Prefer, as a task with it", async () => {
    const plain = await proxy.post("/count", { to: 2 });
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.headers.get("preference-applied"), null);
    const accepted = await proxy.post("/count", { to: 3 }, { Prefer: "respond-async" });
    assert.equal(accepted.status, 202, accepted.text);
    const location = accepted.headers.get("location")!;
    const working = await waitFor("a step reported", async () => {
      const body = (await proxy.get(location)).body as Json;
      return body.status_message ? body : undefined;
    });
    assert.match(working.status_message, /^step \d of 3$/);
    assert.equal(working.poll_interval_ms, 100);
    const done = await ended(proxy, location, {});
    assert.equal((done.body as Json).status, "completed");
    assert.equal((done.body as Json).result, "counted to 3 as a task");
  });

  it("answers a failed task as 502 task_failed with the task's message, blocking and async", async () => {
    const blocking = await proxy.post("/doomed", {});
    assert.equal(blocking.status, 502, blocking.text);
    assert.equal((blocking.body as Json).detail.code, "task_failed");
    assert.match((blocking.body as Json).detail.message, /the disk is on fire/);
    const accepted = await proxy.post("/doomed", {}, { Prefer: "respond-async" });
    const done = await ended(proxy, accepted.headers.get("location")!, {});
    assert.equal((done.body as Json).status, "failed");
    assert.deepEqual((done.body as Json).error, { status: 502, detail: (blocking.body as Json).detail });
  });
});

describe("a blocking task's timeout: restarted by status changes, bounded by the cap", () => {
  let proxy: Proxy;
  before(async () => {
    // Stages of 1 s each: a 1.5 s timeout restarted by every stage would let the 4 s task finish; the cap does not.
    proxy = await startProxy(
      ["--tool-timeout", "1.5", "--max-tool-timeout", "2.5"],
      [process.execPath, EVERYTHING_ENTRY, "stdio"],
    );
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("answers 504 at the cap, saying the task was cancelled upstream", async () => {
    const startedAt = Date.now();
    const { status, body } = await proxy.post(`/${TOOL}`, { topic: "capped" });
    const took = Date.now() - startedAt;
    assert.equal(status, 504, JSON.stringify(body));
    assert.match((body as Json).detail.message, /past the cap of 2\.5 s; the task was cancelled upstream/);
    assert.ok(took >= 2000 && took < 3500, `took ${took} ms: past the 1.5 s timeout, stopped by the 2.5 s cap`);
  });
});

describe("tasks on forwarded callers' own sessions (--forward-header)", () => {
  let server: RemoteServer;
  let proxy: Proxy;
  const alice = { authorization: "Bearer alice-token" };
  const bob = { authorization: "Bearer bob-token" };
  before(async () => {
    server = await startEverything("streamableHttp");
    proxy = await startProxy(["--server-type", "streamable-http", "--forward-header", "Authorization"], [server.url]);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
    await stopAll();
  });

  it("runs the task on the caller's session, blocking and async, and shows it to that caller only", async () => {
    const blocking = await proxy.post(`/${TOOL}`, { topic: "forwarded" }, alice);
    assert.equal(blocking.status, 200, blocking.text);
    const accepted = await proxy.post(`/${TOOL}`, { topic: "forwarded" }, { ...alice, Prefer: "respond-async" });
    assert.equal(accepted.status, 202, accepted.text);
    const location = accepted.headers.get("location")!;
    assert.equal((await proxy.get(location, bob)).status, 404);
    assert.equal((await proxy.get(location)).status, 404);
    const done = await ended(proxy, location, alice);
    assert.deepEqual((done.body as Json).result, blocking.body);
    assert.ok(((await proxy.get("/health")).body as Json).details.forward.sessions_open >= 1);
  });
});
