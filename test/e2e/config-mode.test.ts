import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { EVERYTHING_ENTRY, startEverything, type RemoteServer } from "../helpers/everything.js";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { FIXTURE_TOOLS } from "../fixtures/fixture-tools.js";
import { configFile } from "../helpers/config-file.js";
import { freePort } from "../helpers/ports.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST = { retry_delay: 0.05, max_retry_delay: 0.2, connection_timeout: 3 };
// server-everything's tools for a client that declares form elicitation, sampling and roots, as the proxy does
const EVERYTHING_TOOLS = 16;

describe("config mode: several servers over every transport, one of them down", () => {
  let proxy: Proxy;
  let sse: RemoteServer;
  let http: RemoteServer;
  let latePort: number;
  const [fixtureCommand, ...fixtureArgs] = FIXTURE_STDIO;

  before(async () => {
    [sse, http] = await Promise.all([startEverything("sse"), startEverything("streamableHttp")]);
    latePort = await freePort();
    const config = configFile({
      mcpServers: {
        local: { command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"], disabledTools: ["get-env", "get-sum"] },
        legacy: { url: sse.url }, // url without type: SSE, as in Python mcpo
        modern: { type: "streamable_http", url: http.url, enabledTools: ["echo", "get-sum"] },
        late: { type: "streamable-http", url: `http://127.0.0.1:${latePort}/mcp` },
        fixture: {
          command: fixtureCommand,
          args: fixtureArgs,
          env: { FIXTURE_GREETING: "${GREETING:-hello from config}" },
        },
        off: { command: "does-not-exist", disabled: true },
      },
      connection_settings: FAST,
    });
    proxy = await startProxy(["--config", config.path], []);
    await waitFor("four servers ready", async () => {
      const servers = ((await proxy.get("/health")).body as Json).servers as Json;
      return ["local", "legacy", "modern", "fixture"].every((name) => servers[name]?.details.state === "ready");
    });
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("serves every server's tools under its name", async () => {
    assert.equal((await proxy.post("/local/echo", { message: "stdio" })).body, "Echo: stdio");
    assert.equal((await proxy.post("/legacy/echo", { message: "sse" })).body, "Echo: sse");
    assert.equal((await proxy.post("/modern/echo", { message: "http" })).body, "Echo: http");
    assert.equal((await proxy.post("/fixture/env", { name: "FIXTURE_GREETING" })).body, "hello from config");
  });

  it("hides disabledTools and keeps only enabledTools, in routes and spec", async () => {
    assert.equal((await proxy.post("/local/get-sum", { a: 1, b: 2 })).status, 404);
    assert.equal((await proxy.post("/modern/get-sum", { a: 1, b: 2 })).status, 200);
    assert.equal((await proxy.post("/modern/get-tiny-image", {})).status, 404);
    const doc = (await proxy.get("/openapi.json")).body as Json;
    const paths = Object.keys(doc.paths);
    assert.ok(!paths.includes("/local/get-sum") && !paths.includes("/local/get-env"));
    const toolPaths = paths.filter((p) => /^\/modern\/[^/]+$/.test(p) && doc.paths[p].post);
    assert.deepEqual(toolPaths.sort(), ["/modern/echo", "/modern/get-sum"]);
    const definitions = (await proxy.get("/modern/tools")).body as Json;
    assert.deepEqual(
      definitions.tools.map((tool: Json) => tool.name).sort(),
      ["echo", "get-sum"],
      "/tools serves only what is served",
    );
  });

  it("aggregates one valid OpenAPI document holding every tool once", async () => {
    const doc = (await proxy.get("/openapi.json")).body as Json;
    await SwaggerParser.validate(structuredClone(doc) as never);
    // Tool routes (/{server}/{tool}), not resource and prompt routes (/{server}/prompts/{name}, …).
    const operations = Object.entries(doc.paths as Json).filter(
      ([path, item]) => item.post && /^\/[^/]+\/[^/]+$/.test(path),
    );
    const expected = EVERYTHING_TOOLS - 2 + EVERYTHING_TOOLS + 2 + FIXTURE_TOOLS.length; // local, legacy, modern, fixture
    assert.equal(operations.length, expected);
    const ids = operations.map(([, item]) => item.post.operationId as string);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(doc.paths["/legacy/echo"].post.operationId, "legacy_echo");
    assert.deepEqual(doc.paths["/legacy/echo"].post.tags, ["legacy"]);
    // Two servers with the same tool names never share a component.
    const ref =
      doc.paths["/fixture/with-refs"].post.requestBody.content["application/json"].schema.properties.color.$ref;
    assert.equal(ref, "#/components/schemas/fixture_with-refs_input_Color");
    assert.match(doc.info.description, /\[local\]\(\/local\/docs\)/);
  });

  it("gives each server its own spec, docs, health and index", async () => {
    const doc = (await proxy.get("/legacy/openapi.json")).body as Json;
    assert.deepEqual(doc.servers, [{ url: "/legacy" }]);
    assert.ok(doc.paths["/echo"]);
    assert.equal(doc.paths["/echo"].post.operationId, "echo");
    await SwaggerParser.validate(structuredClone(doc) as never);
    const docs = await proxy.get("/legacy/docs/swagger-ui-init.js");
    assert.match(docs.text, /"url": "\/legacy\/openapi.json"/);
    assert.equal((await proxy.get("/legacy/docs")).headers.get("location"), "/legacy/docs/");
    assert.equal((await proxy.get("/legacy/health")).status, 200);
    const index = (await proxy.get("/legacy")).body as Json;
    assert.equal(index.openapi, "/legacy/openapi.json");
    assert.ok((index.tools as string[]).includes("/legacy/echo"));
    const root = (await proxy.get("/")).body as Json;
    assert.deepEqual(Object.keys(root.servers).sort(), ["fixture", "late", "legacy", "local", "modern"]);
    assert.deepEqual(root.disabled, ["off"]);
  });

  it("answers 503 for a server that is down while the others answer 200, and mounts it once it is up", async () => {
    const down = await proxy.post("/late/echo", { message: "x" });
    assert.equal(down.status, 503);
    assert.ok(down.headers.get("retry-after"));
    const health = await proxy.get("/health");
    assert.equal(health.status, 503);
    assert.equal((health.body as Json).servers.late.status, "unhealthy");
    assert.equal((health.body as Json).servers.local.status, "healthy");
    assert.equal((await proxy.get("/late/health")).status, 503);
    assert.equal((await proxy.post("/local/echo", { message: "still fine" })).status, 200);

    await startEverything("streamableHttp", latePort);
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/late/echo", { message: "up" })).body, "Echo: up");
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.ok(doc.paths["/late/echo"], "the aggregated spec follows");
    assert.equal((await proxy.get("/late/health")).status, 200);
  });

  it("answers 404 for disabled and unknown servers", async () => {
    assert.equal((await proxy.post("/off/anything", {})).status, 404);
    assert.equal((await proxy.get("/nobody/openapi.json")).status, 404);
  });
});
