import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { PDF, PNG, RESULT_TOOLS, WAV } from "../fixtures/catalogue/index.js";
import { CATALOGUE_STDIO } from "../fixtures/index.js";
import { toolOperation } from "../helpers/openapi.js";
import { stopAll } from "../helpers/processes.js";
import { startProxyWithDocument, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;
const RAW = "application/vnd.mcp.tool-result+json";

/** What the default (mcpo-compatible) body must be for each result tool. */
const DEFAULT_BODIES: Record<string, unknown> = {
  "result-audio": `data:audio/wav;base64,${WAV}`,
  "result-embedded-text": "the notes",
  "result-embedded-blob": `data:application/pdf;base64,${PDF}`,
  "result-link": {
    type: "resource_link",
    uri: "file:///big.csv",
    name: "big.csv",
    mimeType: "text/csv",
    description: "Too big to embed",
  },
  "result-several": ["first", { n: 2 }, `data:image/png;base64,${PNG}`],
  "result-structured": { answer: 42, unit: { name: "km" } },
  "result-annotated": "annotated",
};

describe("tool results, mcpo's shape and the raw MCP result (schema catalogue fixture over stdio)", () => {
  let proxy: Proxy;
  let doc: Json;

  before(async () => {
    ({ proxy, doc } = await startProxyWithDocument([], CATALOGUE_STDIO));
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  /** Validates `value` against a schema of the served document, its component refs resolved. */
  const matchesDocumented = (schema: Json, value: unknown): boolean => {
    const validate = new Ajv2020({ strict: false }).compile({ ...schema, components: doc.components });
    return validate(value) || assert.fail(JSON.stringify(validate.errors));
  };

  for (const [name, expected] of Object.entries(DEFAULT_BODIES)) {
    it(`${name}: answers mcpo's shape by default`, async () => {
      const { status, headers, body } = await proxy.post(`/${name}`, {});
      assert.equal(status, 200);
      assert.match(headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(body, expected);
    });
  }

  it("answers a tool error (isError) as 500 with the tool's text by default", async () => {
    const { status, body } = await proxy.post("/result-error", {});
    assert.equal(status, 500);
    assert.deepEqual(body, { detail: { message: "the tool failed", code: "tool_error" } });
  });

  for (const { tool, result } of RESULT_TOOLS) {
    it(`${tool.name}: answers the whole CallToolResult, _meta and annotations kept, to Accept: ${RAW}`, async () => {
      const { status, headers, body } = await proxy.post(`/${tool.name}`, {}, { accept: RAW });
      assert.equal(status, 200, "200 even for isError: the result carries the flag");
      assert.match(headers.get("content-type") ?? "", /^application\/vnd\.mcp\.tool-result\+json/);
      assert.match(headers.get("vary") ?? "", /Accept/i);
      assert.deepEqual(body, result);
    });
  }

  it("honours the caller's order of preference in Accept", async () => {
    const prefersJson = await proxy.post("/result-audio", {}, { accept: `application/json, ${RAW}` });
    assert.equal(prefersJson.body, `data:audio/wav;base64,${WAV}`);
    const prefersRaw = await proxy.post("/result-audio", {}, { accept: `application/json;q=0.5, ${RAW}` });
    assert.deepEqual((prefersRaw.body as Json).content[0].type, "audio");
    const anything = await proxy.post("/result-audio", {}, { accept: "*/*" });
    assert.equal(anything.body, `data:audio/wav;base64,${WAV}`);
  });

  it("keeps errors that are not the tool's own in the usual shape, even to raw callers", async () => {
    const { status, headers, body } = await proxy.post("/enum", { color: 1 }, { accept: RAW });
    assert.equal(status, 422);
    assert.match(headers.get("content-type") ?? "", /^application\/json/);
    assert.ok(Array.isArray((body as Json).detail));
  });

  it("documents the outputSchema as the 200 body, and what it answers matches it", async () => {
    const content = toolOperation(doc, "result-structured").responses["200"].content;
    const schema = content["application/json"].schema;
    assert.equal(schema.properties.unit.$ref, "#/components/schemas/result-structured_output_Unit");
    assert.deepEqual(doc.components.schemas["result-structured_output_Unit"].properties.name.enum, ["m", "km"]);
    assert.equal(matchesDocumented(schema, (await proxy.post("/result-structured", {})).body), true);
    const raw = content[RAW].schema;
    assert.deepEqual(raw.allOf[0], { $ref: "#/components/schemas/McpCallToolResult" });
    assert.deepEqual(raw.allOf[1].properties.structuredContent, schema);
    const rawBody = (await proxy.post("/result-structured", {}, { accept: RAW })).body;
    assert.equal(matchesDocumented(raw, rawBody), true);
  });

  it("documents the raw result of every tool, and every raw answer matches it", async () => {
    for (const { tool } of RESULT_TOOLS) {
      const operation = toolOperation(doc, tool.name);
      const schema = operation.responses["200"].content[RAW].schema;
      assert.ok(schema, `${tool.name} documents ${RAW}`);
      const { body } = await proxy.post(`/${tool.name}`, {}, { accept: RAW });
      assert.equal(matchesDocumented(schema, body), true, tool.name);
    }
    assert.match(toolOperation(doc, "enum").responses["200"].description, /status 200 even when the tool reports/);
  });
});
