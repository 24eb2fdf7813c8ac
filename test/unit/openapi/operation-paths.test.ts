import assert from "node:assert/strict";
import { describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { buildCatalog } from "../../../src/catalog/build-catalog.js";
import { silentLogger } from "../../../src/log/logger.js";
import { buildOpenApiDocument } from "../../../src/openapi/index.js";
import { NO_OFFERINGS, type Offerings } from "../../../src/upstream/index.js";

type Json = Record<string, any>;

const OFFERINGS: Offerings = {
  resources: true,
  prompts: true,
  resourceList: Array.from({ length: 60 }, (_, i) => ({ uri: `file:///r${i}`, name: `r${i}` })),
  templates: [{ uriTemplate: "file:///logs/{day}", name: "logs", description: "A day's log" }],
  promptList: [
    { name: "summarize", description: "Summarizes", arguments: [{ name: "text", required: true }] },
    { name: "my prompt!", arguments: [{ name: "tone", description: "How it sounds" }] },
    { name: "my_prompt_" },
  ],
};

function documentOf(toolNames: string[], mounts: { name?: string; offerings: Offerings }[]): Json {
  const catalog = buildCatalog(
    toolNames.map((name) => ({ name, inputSchema: { type: "object" as const } })),
    { operationIdPrefix: "", logger: silentLogger() },
  );
  return buildOpenApiDocument({
    title: "t",
    description: "d",
    version: "1",
    serverUrl: "",
    health: mounts.some((mount) => mount.name) ? "aggregate" : "single",
    mounts: mounts.map((mount) => ({
      prefix: mount.name ? `/${mount.name}` : "",
      ...(mount.name ? { name: mount.name } : {}),
      catalog,
      offerings: mount.offerings,
    })),
    bearerAuth: false,
    logger: silentLogger(),
  }) as Json;
}

const idsOf = (doc: Json): string[] =>
  Object.values(doc.paths as Json).flatMap((item) =>
    Object.values(item as Json)
      .map((operation) => (operation as Json).operationId as string | undefined)
      .filter((id): id is string => id !== undefined),
  );

describe("resource and prompt paths in the OpenAPI document", () => {
  it("leave a tool its operationId: the route that would take it gets a suffix", () => {
    const doc = documentOf(["read_resource", "list_prompts"], [{ offerings: OFFERINGS }]);
    assert.equal(doc.paths["/read_resource"].post.operationId, "read_resource");
    assert.equal(doc.paths["/resources/read"].post.operationId, "read_resource_2");
    assert.equal(doc.paths["/prompts"].get.operationId, "list_prompts_2");
    const ids = idsOf(doc);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("give each prompt a valid, unique get_prompt_ id, its arguments as body properties", async () => {
    const doc = documentOf([], [{ offerings: OFFERINGS }]);
    await SwaggerParser.validate(structuredClone(doc) as never);
    assert.equal(doc.paths["/prompts/summarize"].post.operationId, "get_prompt_summarize");
    assert.equal(doc.paths["/prompts/my_prompt_"].post.operationId, "get_prompt_my_prompt_");
    assert.equal(doc.paths["/prompts/my%20prompt!"].post.operationId, "get_prompt_my_prompt__2");
    assert.deepEqual(doc.paths["/prompts/my%20prompt!"].post.requestBody.content["application/json"].schema, {
      type: "object",
      properties: { tone: { type: "string", description: "How it sounds" } },
      required: [],
      additionalProperties: false,
    });
    assert.equal(doc.paths["/prompts/my_prompt_"].post.requestBody, undefined, "no arguments: no body");
    for (const id of idsOf(doc)) assert.match(id, /^[a-zA-Z0-9_-]{1,64}$/);
  });

  it("name at most 50 resource URIs as examples of `uri`, and the templates in its description", () => {
    const doc = documentOf([], [{ offerings: OFFERINGS }]);
    const uri = doc.paths["/resources/read"].post.requestBody.content["application/json"].schema.properties.uri;
    assert.equal(uri.examples.length, 50);
    assert.equal(uri.examples[0], "file:///r0");
    assert.match(uri.description, /`file:\/\/\/logs\/\{day\}` \(A day's log\)/);
    assert.deepEqual(
      doc.paths["/resources/read"].get.parameters.map((p: Json) => p.name),
      ["uri"],
    );
    assert.equal(doc.paths["/resources/read"].get.operationId, undefined, "one tool for reading");
  });

  it("prefix ids and paths with the server's name in config mode's root document", () => {
    const doc = documentOf([], [{ name: "docs", offerings: OFFERINGS }, { name: "none", offerings: NO_OFFERINGS }]);
    assert.equal(doc.paths["/docs/resources/read"].post.operationId, "docs_read_resource");
    assert.equal(doc.paths["/docs/prompts/summarize"].post.operationId, "docs_get_prompt_summarize");
    assert.deepEqual(doc.paths["/docs/prompts/summarize"].post.tags, ["docs"]);
    assert.ok(!Object.keys(doc.paths).some((path) => /^\/none\/(resources|prompts)/.test(path)));
  });

  it("document nothing, not even the shared schemas, when no server offers resources or prompts", () => {
    const doc = documentOf(["echo"], [{ offerings: NO_OFFERINGS }]);
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/echo", "/health", "/tools"]);
    assert.equal(doc.components?.schemas?.McpPrompt, undefined);
  });

  it("document prompts only for a server without resources", () => {
    const doc = documentOf([], [{ offerings: { ...OFFERINGS, resources: false } }]);
    assert.ok(doc.paths["/prompts"]);
    assert.equal(doc.paths["/resources"], undefined);
    assert.equal(doc.paths["/resources/read"], undefined);
  });
});
