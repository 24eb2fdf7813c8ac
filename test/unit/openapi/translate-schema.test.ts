import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonSchema } from "../../../src/catalog/json-schema.js";
import { translateSchema } from "../../../src/openapi/translate-schema.js";

describe("translateSchema", () => {
  it("strips $schema and $id, nested ones too", () => {
    const { schema } = translateSchema(
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        $id: "urn:tool",
        type: "object",
        properties: { a: { $id: "urn:a", $schema: "x", type: "string" } },
      },
      "p",
    );
    assert.deepEqual(schema, { type: "object", properties: { a: { type: "string" } } });
  });

  it("moves $defs and definitions to prefixed components and rewrites their refs", () => {
    const result = translateSchema(
      {
        type: "object",
        properties: { a: { $ref: "#/$defs/A" }, b: { $ref: "#/definitions/B" } },
        $defs: { A: { type: "string" } },
        definitions: { B: { type: "number" } },
      },
      "op_input",
    );
    assert.deepEqual(result.schema, {
      type: "object",
      properties: { a: { $ref: "#/components/schemas/op_input_A" }, b: { $ref: "#/components/schemas/op_input_B" } },
    });
    assert.deepEqual(result.components, { op_input_A: { type: "string" }, op_input_B: { type: "number" } });
    assert.deepEqual(result.problems, []);
  });

  it("keeps a recursive definition recursive, closing the cycle through allOf", () => {
    const result = translateSchema(
      {
        properties: { head: { $ref: "#/$defs/node" } },
        $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } },
      },
      "p",
    );
    assert.deepEqual(result.schema, { properties: { head: { $ref: "#/components/schemas/p_node" } } });
    assert.deepEqual(result.components, {
      p_node: { type: "object", properties: { next: { allOf: [{ $ref: "#/components/schemas/p_node" }] } } },
    });
  });

  it("wraps only the refs Open WebUI would follow round a cycle", () => {
    const { schema, components } = translateSchema(
      {
        properties: {
          tree: { $ref: "#/$defs/tree" },
          again: { $ref: "#/$defs/tree" },
          list: { type: "array", items: { $ref: "#/$defs/leaf" } },
        },
        $defs: {
          // children → items → tree closes a cycle; anyOf is not followed, so it stays a plain ref.
          tree: {
            type: "object",
            description: "a node",
            properties: {
              children: { type: "array", items: { $ref: "#/$defs/tree", description: "child" } },
              either: { anyOf: [{ $ref: "#/$defs/tree" }, { type: "null" }] },
              leaf: { $ref: "#/$defs/leaf" },
            },
          },
          leaf: { type: "string" },
        },
      },
      "p",
    );
    const properties = schema.properties as Record<string, JsonSchema>;
    assert.equal(properties.tree!.$ref, "#/components/schemas/p_tree");
    assert.equal(properties.again!.$ref, "#/components/schemas/p_tree", "a second, acyclic path keeps its $ref");
    assert.deepEqual(properties.list!.items, { $ref: "#/components/schemas/p_leaf" });
    const tree = components.p_tree!.properties as Record<string, JsonSchema>;
    assert.deepEqual(tree.children!.items, { description: "child", allOf: [{ $ref: "#/components/schemas/p_tree" }] });
    assert.deepEqual(tree.either!.anyOf, [{ $ref: "#/components/schemas/p_tree" }, { type: "null" }]);
    assert.deepEqual(tree.leaf, { $ref: "#/components/schemas/p_leaf" });
  });

  it("gives a #/properties pointer a component of its own", () => {
    const result = translateSchema({ properties: { a: { type: "string" }, b: { $ref: "#/properties/a" } } }, "p");
    assert.deepEqual(result.schema, {
      properties: { a: { type: "string" }, b: { $ref: "#/components/schemas/p_properties_a" } },
    });
    assert.deepEqual(result.components, { p_properties_a: { type: "string" } });
  });

  it("gives the root a component when something refers to #", () => {
    const result = translateSchema(
      { $schema: "x", type: "object", properties: { child: { $ref: "#" } }, $defs: { unused: { type: "null" } } },
      "p",
    );
    assert.deepEqual(result.schema, {
      type: "object",
      properties: { child: { $ref: "#/components/schemas/p_root" } },
    });
    assert.deepEqual(result.components, {
      p_unused: { type: "null" },
      p_root: { type: "object", properties: { child: { allOf: [{ $ref: "#/components/schemas/p_root" }] } } },
    });
  });

  it("reads a ref that starts with the root's $id as local", () => {
    const { schema, problems } = translateSchema(
      {
        $id: "https://example.com/tool.json",
        properties: { a: { $ref: "https://example.com/tool.json#/definitions/A" } },
        definitions: { A: { type: "string" } },
      },
      "p",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(schema, { properties: { a: { $ref: "#/components/schemas/p_A" } } });
    const other = translateSchema(
      { $id: "https://example.com/tool", properties: { a: { $ref: "https://example.com/tool2#/definitions/A" } } },
      "p",
    );
    assert.match(other.problems[0] ?? "", /external \$ref "https:\/\/example.com\/tool2#\/definitions\/A"/);
  });

  it("turns true as a property or items schema into {}, false into {not: {}}", () => {
    const { schema } = translateSchema(
      { properties: { yes: true, no: false, list: { type: "array", items: true }, closed: { items: false } } },
      "p",
    );
    assert.deepEqual(schema.properties, {
      yes: {},
      no: { not: {} },
      list: { type: "array", items: {} },
      closed: { items: false },
    });
  });

  it("turns draft-07 tuple items into prefixItems, additionalItems into items", () => {
    const { schema } = translateSchema(
      { type: "array", items: [{ type: "string" }, { type: "number" }], additionalItems: { type: "boolean" } },
      "p",
    );
    assert.deepEqual(schema, {
      type: "array",
      prefixItems: [{ type: "string" }, { type: "number" }],
      items: { type: "boolean" },
    });
    const plain = translateSchema({ type: "array", items: { type: "string" } }, "p").schema;
    assert.deepEqual(plain, { type: "array", items: { type: "string" } });
  });

  it("keeps other keywords as they are", () => {
    const input: JsonSchema = {
      type: ["object", "null"],
      properties: {
        e: { enum: ["a", 1, null] },
        c: { const: { x: 1 } },
        one: { oneOf: [{ type: "string" }, { type: "integer" }] },
        any: { anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
        all: { allOf: [{ minimum: 0 }, { maximum: 9 }] },
        not: { not: { type: "string" } },
        s: { type: "string", pattern: "^a+$", default: "aa", examples: ["aaa"] },
      },
      patternProperties: { "^x-": { type: "string" } },
    };
    const result = translateSchema(input, "p");
    assert.deepEqual(result.schema, input);
    assert.deepEqual(result.components, {});
    assert.deepEqual(result.problems, []);
  });

  it("drops a $ref that points nowhere, says so in the description and reports it", () => {
    const result = translateSchema(
      { properties: { a: { $ref: "#/$defs/nope", description: "A thing" }, b: { $ref: "#/properties/zzz" } } },
      "p",
    );
    const a = result.schema.properties as Record<string, JsonSchema>;
    assert.equal(a.a?.$ref, undefined);
    assert.equal(a.b?.$ref, undefined);
    assert.match(String(a.a?.description), /^A thing \(.*#\/\$defs\/nope.*\)$/);
    assert.match(String(a.b?.description), /#\/properties\/zzz/);
    assert.equal(result.problems.length, 2);
    assert.match(result.problems[0] ?? "", /#\/\$defs\/nope/);
    assert.match(result.problems[1] ?? "", /#\/properties\/zzz/);
  });

  it("reports an external $ref", () => {
    const result = translateSchema({ properties: { a: { $ref: "http://x" } } }, "p");
    const a = (result.schema.properties as Record<string, JsonSchema>).a;
    assert.equal(a?.$ref, undefined);
    assert.match(String(a?.description), /http:\/\/x/);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0] ?? "", /external \$ref "http:\/\/x"/);
  });

  it("never mutates its input", () => {
    const input: JsonSchema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        t: { type: "array", items: [{ $ref: "#/definitions/A" }], additionalItems: false },
        r: { $ref: "#" },
        bad: { $ref: "#/nowhere" },
      },
      definitions: { A: { $id: "urn:a", type: "string" } },
    };
    const before = structuredClone(input);
    translateSchema(input, "p");
    assert.deepEqual(input, before);
  });

  it("reports a $ref with a stray % as a problem instead of throwing", () => {
    const { schema, problems } = translateSchema(
      { $defs: { "100%": { type: "string" } }, properties: { a: { $ref: "#/$defs/100%" } } },
      "p",
    );
    assert.equal(problems.length, 1);
    assert.equal((schema.properties as Record<string, JsonSchema>).a!.$ref, undefined);
  });

  it("gives a boolean definition a component, so no ref dangles", () => {
    const { schema, components } = translateSchema(
      { $defs: { any: true, none: false }, properties: { a: { $ref: "#/$defs/any" }, b: { $ref: "#/$defs/none" } } },
      "p",
    );
    const properties = schema.properties as Record<string, JsonSchema>;
    assert.equal(properties.a!.$ref, "#/components/schemas/p_any");
    assert.deepEqual(components.p_any, {});
    assert.deepEqual(components[String(properties.b!.$ref).split("/").pop()!], { not: {} });
  });

  it("keeps distinct targets in distinct components when their names would clash", () => {
    const { schema, components } = translateSchema(
      {
        type: "object",
        $defs: { a: { type: "string" }, root: { type: "boolean" }, "x y": { type: "null" }, x_y: { type: "integer" } },
        definitions: { a: { type: "number" } },
        properties: {
          s: { $ref: "#/$defs/a" },
          n: { $ref: "#/definitions/a" },
          self: { $ref: "#" },
          r: { $ref: "#/$defs/root" },
          space: { $ref: "#/$defs/x y" },
          under: { $ref: "#/$defs/x_y" },
        },
      },
      "p",
    );
    const target = (name: string): JsonSchema => {
      const ref = String((schema.properties as Record<string, JsonSchema>)[name]!.$ref);
      return components[ref.replace("#/components/schemas/", "")]!;
    };
    assert.deepEqual(target("s"), { type: "string" });
    assert.deepEqual(target("n"), { type: "number" });
    assert.deepEqual(target("r"), { type: "boolean" });
    assert.equal(target("self").type, "object");
    assert.deepEqual(target("space"), { type: "null" });
    assert.deepEqual(target("under"), { type: "integer" });
  });

  it("spells draft-07 dependencies as dependentSchemas/dependentRequired, refs rewritten, nested $defs too", () => {
    const { schema } = translateSchema(
      {
        definitions: { a: { type: "string" } },
        dependencies: { x: { properties: { y: { $ref: "#/definitions/a" } } }, z: ["x"] },
        properties: { n: { $defs: { inner: { $ref: "#/definitions/a" } } } },
      },
      "p",
    );
    assert.equal(schema.dependencies, undefined);
    const dependency = (schema.dependentSchemas as Record<string, JsonSchema>).x!;
    assert.equal((dependency.properties as Record<string, JsonSchema>).y!.$ref, "#/components/schemas/p_a");
    assert.deepEqual(schema.dependentRequired, { z: ["x"] });
    const nested = (schema.properties as Record<string, JsonSchema>).n!.$defs as Record<string, JsonSchema>;
    assert.equal(nested.inner!.$ref, "#/components/schemas/p_a");
  });
});
