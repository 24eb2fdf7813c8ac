import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCatalog } from "../../../src/catalog/build-catalog.js";
import type { JsonSchema } from "../../../src/catalog/json-schema.js";
import { silentLogger } from "../../../src/log/logger.js";
import { buildOpenApiDocument } from "../../../src/openapi/build-document.js";
import { limitSchemaDepth, MAX_SCHEMA_DEPTH } from "../../../src/openapi/schema-depth.js";
import { translateSchema } from "../../../src/openapi/translate-schema.js";

function nested(levels: number): JsonSchema {
  let schema: JsonSchema = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { type: "object", properties: { a: schema } };
  return schema;
}

describe("schema depth in the OpenAPI document", () => {
  it("leaves a schema within the bound untouched (the same object)", () => {
    const schema = nested(10);
    assert.equal(limitSchemaDepth(schema).schema, schema);
  });

  it("documents subschemas deeper than 64 levels as {}, with a problem saying so", () => {
    const { schema, problems } = translateSchema(nested(5_000), "deep");
    let node = schema;
    for (let i = 0; i < MAX_SCHEMA_DEPTH - 1; i++) node = (node.properties as Record<string, JsonSchema>).a!;
    assert.deepEqual((node.properties as Record<string, JsonSchema>).a, {});
    assert.match(problems[0]!, /nested deeper than 64 levels; 1 part\(s\) below that are documented as \{\}/);
  });

  it("builds the aggregated document when one server's tool schema nests 5,000 levels", () => {
    const logger = silentLogger();
    const deep = buildCatalog([{ name: "deep", inputSchema: nested(5_000) as never }], { operationIdPrefix: "", logger });
    const tame = buildCatalog([{ name: "tame", inputSchema: { type: "object", properties: { x: { type: "string" } } } }], {
      operationIdPrefix: "",
      logger,
    });
    const document = buildOpenApiDocument({
      title: "t",
      description: "d",
      version: "1",
      serverUrl: "",
      health: "aggregate",
      mounts: [
        { prefix: "/hostile", name: "hostile", catalog: deep },
        { prefix: "/other", name: "other", catalog: tame },
      ],
      bearerAuth: false,
      logger,
    });
    assert.ok(document.paths?.["/hostile/deep"]);
    assert.ok(document.paths?.["/other/tame"]);
  });
});
