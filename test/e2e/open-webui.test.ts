import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { CATALOGUE_TOOLS, SCHEMA_CASES } from "../fixtures/catalogue/index.js";
import { CATALOGUE_STDIO, FIXTURE_STDIO } from "../fixtures/index.js";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { listToolsDirectly } from "../helpers/list-tools.js";
import { callAsOpenWebUi, convertOpenApi, keepDeclared, resolveSchema } from "../helpers/open-webui.js";
import { assertOpenWebUiReadsEveryTool } from "../helpers/open-webui-check.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;

interface Served {
  proxy: Proxy;
  doc: Json;
  tools: Tool[];
}

/** Runs the CLI in front of `target`; what it must serve is `tools`, else what the target lists when asked directly. */
async function serve(target: string[], known?: Tool[]): Promise<Served> {
  const [proxy, tools] = await Promise.all([startProxy([], target), known ?? listToolsDirectly(target)]);
  await waitForHealth(proxy, 200);
  return { proxy, tools, doc: (await proxy.get("/openapi.json")).body as Json };
}

describe("Open WebUI reads and calls every tool (its conversion rules, applied to /openapi.json)", () => {
  const servers: Record<string, Served> = {};

  before(async () => {
    [servers.catalogue, servers.fixture, servers.everything] = await Promise.all([
      serve(CATALOGUE_STDIO, CATALOGUE_TOOLS),
      serve(FIXTURE_STDIO),
      serve(EVERYTHING_STDIO),
    ]);
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((served) => served.proxy.stop()));
    await stopAll();
  });

  for (const name of ["catalogue", "fixture", "everything"]) {
    it(`${name}: every tool comes out with a valid name, a description and its own parameters`, () => {
      const { doc, tools } = servers[name]!;
      const converted = assertOpenWebUiReadsEveryTool(doc, tools);
      assert.equal(converted.size, tools.length);
    });
  }

  it("catalogue: every schema tool, called the way Open WebUI calls it, gets exactly its declared arguments", async () => {
    const { proxy, doc, tools } = servers.catalogue!;
    const converted = assertOpenWebUiReadsEveryTool(doc, tools);
    for (const { tool, valid } of SCHEMA_CASES) {
      const owui = converted.get(tool.name)!;
      const args = keepDeclared(owui, valid[0] as Json);
      const { status, body } = await callAsOpenWebUi(proxy.url, doc, owui.name, args);
      assert.equal(status, 200, `${tool.name}: ${JSON.stringify(body)}`);
      assert.deepEqual(body, args, `${tool.name} received what Open WebUI sent`);
    }
  });

  it("catalogue: the model sees refs inlined, enums kept, and recursion cut where Open WebUI would loop", () => {
    const { doc, tools } = servers.catalogue!;
    const converted = assertOpenWebUiReadsEveryTool(doc, tools);
    const parameters = (name: string): Json => converted.get(name)!.parameters.properties;
    assert.deepEqual(parameters("defs-ref").color, { type: "string", enum: ["red", "green"] });
    assert.deepEqual(parameters("defs-ref").palette.items, { type: "string", enum: ["red", "green"] });
    assert.deepEqual(parameters("properties-ref").shipping.required, ["city"]);
    const children = parameters("recursive-defs").tree.properties.children;
    assert.deepEqual(children.items, { allOf: [{ $ref: "#/components/schemas/recursive-defs_input_Node" }] });
  });

  it("would have looped on a recursive schema with plain refs: the conversion is what saves the server", () => {
    const { doc } = servers.catalogue!;
    const looping = structuredClone(doc);
    const node = looping.components.schemas["recursive-defs_input_Node"];
    node.properties.children.items = { $ref: "#/components/schemas/recursive-defs_input_Node" };
    assert.throws(() => convertOpenApi(looping), /RecursionError/);
    assert.throws(() => resolveSchema({ properties: { a: true } }, {}), /not iterable/);
  });

  it("fixture: calls tools through Open WebUI's rules, undeclared arguments dropped as it drops them", async () => {
    const { proxy, doc, tools } = servers.fixture!;
    const converted = assertOpenWebUiReadsEveryTool(doc, tools);
    const withRefs = converted.get("with-refs")!;
    const sent = keepDeclared(withRefs, { color: "red", size: "small", invented: 1 });
    assert.deepEqual(sent, { color: "red", size: "small" });
    assert.deepEqual((await callAsOpenWebUi(proxy.url, doc, withRefs.name, sent)).body, sent);
    const weird = converted.get("weird name/with.dots")!;
    const { status, body } = await callAsOpenWebUi(proxy.url, doc, weird.name, {});
    assert.deepEqual({ status, body }, { status: 200, body: "weird ok" });
  });

  it("everything: calls echo and get-sum with the converted parameters", async () => {
    const { proxy, doc, tools } = servers.everything!;
    const converted = assertOpenWebUiReadsEveryTool(doc, tools);
    const echo = converted.get("echo")!;
    const echoed = await callAsOpenWebUi(proxy.url, doc, echo.name, keepDeclared(echo, { message: "hi", x: 1 }));
    assert.deepEqual({ status: echoed.status, body: echoed.body }, { status: 200, body: "Echo: hi" });
    const sum = converted.get("get-sum")!;
    assert.deepEqual(Object.keys(sum.parameters.properties).sort(), ["a", "b"]);
    assert.equal((await callAsOpenWebUi(proxy.url, doc, sum.name, { a: 1, b: 2 })).status, 200);
    // A tool without parameters: Open WebUI's backend sends no arguments, which it refuses to do for an
    // operation with a request body; so it has none.
    const image = converted.get("get-tiny-image")!;
    const answer = await callAsOpenWebUi(proxy.url, doc, image.name, {});
    assert.equal(answer.status, 200);
    assert.match(String((answer.body as unknown[])[1]), /^data:image\/png;base64,/);
  });
});

describe("what Open WebUI's model gets (its handling of each answer, applied to ours)", () => {
  let plain: Served;
  let binary: Proxy;
  let binaryDoc: Json;

  before(async () => {
    const proxy = await startProxy(["--image-results", "binary"], EVERYTHING_STDIO);
    [plain] = await Promise.all([serve(EVERYTHING_STDIO), waitForHealth(proxy, 200)]);
    binary = proxy;
    binaryDoc = (await binary.get("/openapi.json")).body as Json;
  });
  after(async () => {
    await Promise.all([plain?.proxy.stop(), binary?.stop()]);
    await stopAll();
  });

  it("offers the model the MCP tools, resources and prompts, and nothing else: no health, no definitions", async () => {
    const names = convertOpenApi(plain.doc).map((tool) => tool.name);
    const served = ((await plain.proxy.get("/tools")).body as Json).tools as Tool[];
    assert.equal(served.length, 16, "server-everything's tools for a client with form elicitation, sampling and roots");
    const prompts = ["simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"];
    const operations = ["list_resources", "list_resource_templates", "read_resource", "list_prompts"];
    assert.deepEqual(
      names.sort(),
      [...served.map((tool) => tool.name), ...operations, ...prompts.map((name) => `get_prompt_${name}`)].sort(),
    );
    assert.ok(plain.doc.paths["/health"].get, "health is still documented");
    assert.equal(plain.doc.paths["/health"].get.operationId, undefined);
  });

  it("by default an image reaches the model only as a chat file: mcpo's JSON, a data URL it moves out", async () => {
    const tool = convertOpenApi(plain.doc).find((t) => t.name === "get-tiny-image")!;
    const { status, seen } = await callAsOpenWebUi(plain.proxy.url, plain.doc, tool.name, {});
    assert.equal(status, 200);
    assert.equal(seen.kind, "json");
    assert.equal((seen as { files: string[] }).files.length, 1);
    assert.match((seen as { files: string[] }).files[0]!, /^data:image\/png;base64,iVBOR/);
    assert.doesNotMatch(JSON.stringify((seen as { value: unknown }).value), /data:image/, "the model never sees it");
  });

  it("with --image-results binary, the model gets the picture: the image's own bytes and type", async () => {
    const { status, seen } = await callAsOpenWebUi(binary.url, binaryDoc, "get-tiny-image", {});
    assert.equal(status, 200);
    assert.equal(seen.kind, "image");
    const image = seen as { mimeType: string; bytes: Buffer };
    assert.equal(image.mimeType, "image/png");
    assert.deepEqual([...image.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
    // Everything else answers as before.
    assert.deepEqual((await callAsOpenWebUi(binary.url, binaryDoc, "echo", { message: "x" })).seen, {
      kind: "json",
      value: "Echo: x",
      files: [],
    });
  });

  it("negotiates: Accept names JSON → JSON even in binary mode; Accept: image/* → the bytes in data-url mode", async () => {
    const json = await fetch(`${binary.url}/get-tiny-image`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: "{}",
    });
    assert.equal(json.status, 200);
    assert.match(json.headers.get("content-type")!, /^application\/json/);
    assert.match(JSON.stringify(await json.json()), /data:image\/png;base64,/);

    const bytes = await fetch(`${plain.proxy.url}/get-tiny-image`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "image/*" },
      body: "{}",
    });
    assert.equal(bytes.status, 200);
    assert.equal(bytes.headers.get("content-type"), "image/png");
    assert.equal(bytes.headers.get("x-content-type-options"), "nosniff");
    assert.equal(bytes.headers.get("content-security-policy"), "default-src 'none'; sandbox");
    assert.match(bytes.headers.get("vary")!, /Accept/);
    assert.equal(
      Buffer.from(await bytes.arrayBuffer())
        .subarray(1, 4)
        .toString(),
      "PNG",
    );

    // Mcpo's JSON for any caller that does not ask: curl's */* and no Accept at all.
    const curl = await plain.proxy.post("/get-tiny-image", {}, { accept: "*/*" });
    assert.ok(Array.isArray(curl.body));
  });
});
