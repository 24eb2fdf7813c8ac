import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { FIXTURE_TOOLS } from "../fixtures/fixture-tools.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

describe("tool results and upstream errors (fixture server over stdio)", () => {
  let proxy: Proxy;

  before(async () => {
    process.env.MCPO_TEST_INHERITED = "from-the-proxy-environment";
    proxy = await startProxy(
      ["--env", "FIXTURE_GREETING=hello", "--max-body-size", "2048", "--tool-timeout", "5", "--retry-delay", "0.05"],
      FIXTURE_STDIO,
    );
    delete process.env.MCPO_TEST_INHERITED;
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("serves every tool of every tools/list page", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    const paths = Object.keys(doc.paths).filter((p) => doc.paths[p].post);
    assert.ok(FIXTURE_TOOLS.length > 9, "enough tools for several pages");
    assert.equal(paths.length, FIXTURE_TOOLS.length, "the fixture pages 3 tools at a time: every page is read");
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  it("routes a tool whose name is not URL-safe and gives it a valid operationId", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    const operation = doc.paths["/weird%20name%2Fwith.dots"].post;
    assert.equal(operation.operationId, "weird_name_with_dots");
    const { status, body } = await proxy.post("/weird%20name%2Fwith.dots", {});
    assert.equal(status, 200);
    assert.equal(body, "weird ok");
  });

  it("moves $defs into components and keeps enums", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    const body = doc.paths["/with-refs"].post.requestBody.content["application/json"].schema;
    assert.equal(body.properties.color.$ref, "#/components/schemas/with-refs_input_Color");
    assert.deepEqual(doc.components.schemas["with-refs_input_Color"], { type: "string", enum: ["red", "green"] });
    assert.equal((await proxy.post("/with-refs", { color: "blue" })).status, 422);
    assert.equal((await proxy.post("/with-refs", { color: "red", size: "small" })).status, 200);
  });

  it("passes arguments through unchanged: undeclared keys, nulls and strings stay", async () => {
    const args = { keep: null, nested: { a: [1, "2", { b: null }] }, number: "7" };
    const { status, body } = await proxy.post("/echo-args", args);
    assert.equal(status, 200);
    assert.deepEqual(body, args);
  });

  it("answers 500 with the tool's own message for isError results, not double-wrapped", async () => {
    const { status, body } = await proxy.post("/fail", {});
    assert.equal(status, 500);
    assert.deepEqual(body, { detail: { message: "the tool failed on purpose", code: "tool_error" } });
  });

  it("maps JSON-RPC errors to statuses with the upstream's message", async () => {
    const cases: [number, number, string][] = [
      [-32602, 422, "invalid_arguments"],
      [-32601, 404, "unknown_tool"],
      [-32600, 400, "upstream_error"],
      [-32700, 400, "upstream_error"],
      [-32603, 500, "upstream_error"],
      [-32099, 502, "upstream_error"],
    ];
    for (const [code, status, errorCode] of cases) {
      const answer = await proxy.post("/throw", { code, message: `boom ${code}` });
      assert.equal(answer.status, status, `JSON-RPC ${code}`);
      const detail = (answer.body as Json).detail;
      if (status === 422) {
        assert.equal(detail[0].msg, `boom ${code}`);
      } else {
        assert.equal(detail.code, errorCode);
        assert.match(detail.message, new RegExp(`boom ${code}$`));
        assert.doesNotMatch(detail.message, /MCP error -?\d+: MCP error/);
      }
    }
  });

  it("gives a stdio server the proxy's environment plus --env values", async () => {
    assert.equal((await proxy.post("/env", { name: "FIXTURE_GREETING" })).body, "hello");
    assert.equal((await proxy.post("/env", { name: "MCPO_TEST_INHERITED" })).body, "from-the-proxy-environment");
  });

  it("answers 413 for a body over --max-body-size, without calling upstream", async () => {
    const { status, body } = await proxy.post("/echo-args", { big: "x".repeat(4096) });
    assert.equal(status, 413);
    assert.equal((body as Json).detail.code, "payload_too_large");
  });

  it("answers 504 past X-Tool-Timeout and cancels the call upstream", async () => {
    const started = Date.now();
    const { status, body } = await proxy.post("/sleep", { ms: 4000 }, { "x-tool-timeout": "0.3" });
    assert.equal(status, 504);
    assert.ok(Date.now() - started < 3000, "answered near the timeout, not after the tool");
    assert.match((body as Json).detail.message, /within 0\.3 s; the call was cancelled upstream/);
    await waitFor("the upstream to log the cancellation", () =>
      proxy.logs().some((line) => String(line.msg).includes("fixture: sleep 4000 cancelled")),
    );
    assert.equal((await proxy.post("/sleep", { ms: 1 })).status, 200, "the connection still works");
  });

  it("answers 400 for a malformed X-Tool-Timeout", async () => {
    assert.equal((await proxy.post("/sleep", { ms: 1 }, { "x-tool-timeout": "soon" })).status, 400);
  });

  it("answers 503 when the server dies mid-call, then restarts it by itself", async () => {
    const firstPid = (await proxy.post("/pid", {})).body;
    const crash = await proxy.post("/crash", {});
    assert.equal(crash.status, 503);
    assert.ok(Number(crash.headers.get("retry-after")) >= 1);
    assert.match((crash.body as Json).detail.message, /closed during tool "crash"/);
    const health = await waitForHealth(proxy, 200);
    assert.equal((health.body as Json).details.reconnect_count, 1);
    const secondPid = (await proxy.post("/pid", {})).body;
    assert.notEqual(secondPid, firstPid);
  });
});
