import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonSchema } from "../../../src/catalog/json-schema.js";
import { ValidatorFactory, dialectOf } from "../../../src/catalog/validator.js";

const NOT_OBJECT = [{ loc: ["body"], msg: "Input should be a JSON object", type: "model_type" }];

describe("ValidatorFactory.compile", () => {
  const factory = new ValidatorFactory();

  it("accepts a valid body", () => {
    const validate = factory.compile({ type: "object", properties: { a: { type: "number" } }, required: ["a"] });
    assert.equal(validate({ a: 1 }), null);
  });

  it("reports a wrong type at the field's loc", () => {
    const validate = factory.compile({ type: "object", properties: { a: { type: "number" } } });
    assert.deepEqual(validate({ a: "x" }), [
      { loc: ["body", "a"], msg: "Input should be of type number", type: "number_type" },
    ]);
  });

  it("reports a missing required field by name", () => {
    const validate = factory.compile({
      type: "object",
      properties: { message: { type: "string" } },
      required: ["message"],
    });
    assert.deepEqual(validate({}), [{ loc: ["body", "message"], msg: "Field required", type: "missing" }]);
  });

  it("gives array indexes as numbers in a nested loc", () => {
    const validate = factory.compile({
      type: "object",
      properties: {
        items: {
          type: "array",
          items: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
        },
      },
    });
    assert.deepEqual(validate({ items: [{ name: "ok" }, {}] }), [
      { loc: ["body", "items", 1, "name"], msg: "Field required", type: "missing" },
    ]);
  });

  it("rejects a body that is not a JSON object", () => {
    const validate = factory.compile({ type: "object" });
    for (const body of [[], "text", null, 3]) assert.deepEqual(validate(body), NOT_OBJECT, JSON.stringify(body));
  });

  it("reports every problem, not just the first", () => {
    const validate = factory.compile({
      type: "object",
      properties: { a: { type: "number" }, b: { type: "string" } },
      required: ["a", "b"],
    });
    const problems = validate({ a: "x" }) ?? [];
    const found = problems.map((p) => `${p.loc.join(".")}:${p.type}`).sort();
    assert.deepEqual(found, ["body.a:number_type", "body.b:missing"]);
  });

  it("reports a forbidden extra field", () => {
    const validate = factory.compile({ type: "object", properties: {}, additionalProperties: false });
    assert.deepEqual(validate({ z: 1 }), [
      { loc: ["body", "z"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
    ]);
  });

  it("uses draft-07 when $schema is absent: tuple items arrays work", () => {
    const validate = factory.compile({
      type: "object",
      properties: { pair: { type: "array", items: [{ type: "string" }, { type: "number" }] } },
    });
    assert.equal(validate({ pair: ["a", 1] }), null);
    assert.deepEqual(validate({ pair: ["a", "b"] })?.[0]?.loc, ["body", "pair", 1]);
  });

  it("validates a 2020-12 schema with prefixItems", () => {
    const validate = factory.compile({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false } },
    });
    assert.equal(validate({ pair: ["a", 1] }), null);
    assert.deepEqual(
      validate({ pair: [1, 1] })?.map((p) => [p.loc, p.type]),
      [[["body", "pair", 0], "string_type"]],
    );
    assert.notEqual(validate({ pair: ["a", 1, "extra"] }), null);
  });

  it("checks formats", () => {
    const validate = factory.compile({ type: "object", properties: { to: { type: "string", format: "email" } } });
    assert.equal(validate({ to: "a@example.com" }), null);
    assert.deepEqual(
      validate({ to: "x" })?.map((p) => [p.loc, p.type]),
      [[["body", "to"], "format"]],
    );
  });

  it("compiles two schemas that share an $id", () => {
    const first = factory.compile({ $id: "urn:same", type: "object", properties: { a: { type: "number" } } });
    const second = factory.compile({ $id: "urn:same", type: "object", properties: { a: { type: "string" } } });
    assert.equal(first({ a: 1 }), null);
    assert.equal(second({ a: "s" }), null);
    assert.notEqual(second({ a: 1 }), null);
  });

  it("falls back to an object check when a schema cannot be compiled, and says so", () => {
    const warnings: [string, unknown][] = [];
    const schema: JsonSchema = { type: "object", properties: { a: { type: "nonsense" } } };
    const validate = factory.compile(schema, (message, error) => warnings.push([message, error]));
    assert.equal(warnings.length, 0, "compiled on first use, not before");
    assert.equal(validate({ a: "anything" }), null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]![0], /could not be compiled/);
    assert.ok(warnings[0]![1] instanceof Error);
    assert.deepEqual(validate([1]), NOT_OBJECT);
    assert.equal(warnings.length, 1, "compiled once");
  });

  it("neither coerces types nor injects defaults", () => {
    const validate = factory.compile({
      type: "object",
      properties: { n: { type: "number" }, d: { type: "string", default: "x" } },
    });
    const body = { n: "7" };
    assert.deepEqual(
      validate(body)?.map((p) => p.type),
      ["number_type"],
    );
    assert.deepEqual(body, { n: "7" });
    const valid = { n: 7 };
    assert.equal(validate(valid), null);
    assert.deepEqual(valid, { n: 7 });
  });

  it("reports a property named with digits as a string, and an array index as a number", () => {
    const validate = factory.compile({
      type: "object",
      properties: {
        "123": { type: "string" },
        list: { type: "array", items: { type: "string" } },
      },
    });
    assert.deepEqual(
      validate({ "123": 5, list: ["ok", 7] })?.map((problem) => problem.loc),
      [
        ["body", "123"],
        ["body", "list", 1],
      ],
    );
  });

  it("validates the rest of a schema whose $ref points nowhere, and says which ref", () => {
    const warnings: string[] = [];
    const validate = factory.compile(
      {
        $id: "https://example.com/tool",
        type: "object",
        properties: { lost: { $ref: "#/$defs/missing", description: "x" }, n: { type: "number" } },
      },
      (message) => warnings.push(message),
    );
    assert.equal(validate({ lost: ["anything"], n: 1 }), null);
    assert.deepEqual(
      validate({ lost: 1, n: "x" })?.map((p) => p.loc),
      [["body", "n"]],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^\$ref #\/\$defs\/missing resolves to nothing/);
  });

  it("resolves refs against the root $id, and survives an $id ajv cannot parse", () => {
    const byId = factory.compile({
      $id: "https://example.com/t.json",
      definitions: { A: { type: "string" } },
      properties: { a: { $ref: "https://example.com/t.json#/definitions/A" } },
    });
    assert.equal(byId({ a: "s" }), null);
    assert.deepEqual(byId({ a: 1 })?.[0]?.loc, ["body", "a"]);
    const urn = factory.compile({ $id: "urn:odd", properties: { a: { type: "string" } } });
    assert.deepEqual(urn({ a: 1 })?.[0]?.loc, ["body", "a"]);
  });

  it("validates a schema that refers to itself through #", () => {
    const validate = factory.compile({
      type: "object",
      properties: { text: { type: "string" }, reply: { $ref: "#" } },
    });
    assert.equal(validate({ text: "a", reply: { text: "b", reply: {} } }), null);
    assert.deepEqual(validate({ reply: { reply: { text: 1 } } })?.[0]?.loc, ["body", "reply", "reply", "text"]);
  });

  it("routes ajv's own warnings (an unknown format) to the warning callback, not the console", () => {
    const warnings: string[] = [];
    const validate = factory.compile({ properties: { p: { type: "string", format: "no-such-format" } } }, (m) =>
      warnings.push(m),
    );
    assert.equal(validate({ p: "anything" }), null);
    assert.match(warnings.join("\n"), /unknown format "no-such-format"/);
  });

  it("names problems in pydantic's words: type unions, enums, consts, dependencies, unevaluated and property names", () => {
    const validate = factory.compile({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        t: { type: ["string", "null"] },
        e: { enum: ["a", "b"] },
        c: { const: 3 },
        m: { type: "object", propertyNames: { pattern: "^[a-z]+$" } },
      },
      dependentRequired: { t: ["e"] },
      unevaluatedProperties: false,
    });
    const problems = validate({ t: 1, c: 4, m: { AB: 1 }, zz: true }) ?? [];
    assert.deepEqual(
      problems.map((p) => [p.loc, p.type, p.msg]),
      [
        [["body", "t"], "string_or_null_type", "Input should be of type string or null"],
        [["body", "c"], "const", "Input should be 3"],
        [["body", "m", "AB"], "pattern", 'Input must match pattern "^[a-z]+$"'],
        [["body", "m", "AB"], "propertyNames", "Input property name must be valid"],
        [["body", "e"], "missing", "Field required"],
        [["body", "zz"], "extra_forbidden", "Extra inputs are not permitted"],
      ],
    );
    assert.deepEqual(validate({ e: "z" })?.[0], {
      loc: ["body", "e"],
      msg: 'Input should be one of ["a","b"]',
      type: "enum",
    });
  });
});

describe("dialectOf", () => {
  it("follows $schema", () => {
    assert.equal(dialectOf({ $schema: "https://json-schema.org/draft/2020-12/schema" }), "2020-12");
    assert.equal(dialectOf({ $schema: "https://json-schema.org/draft/2019-09/schema" }), "2019-09");
    assert.equal(dialectOf({ $schema: "http://json-schema.org/draft-07/schema#", prefixItems: [] }), "draft-07");
  });

  it("without $schema: draft-07, unless only 2020-12 keywords are used", () => {
    assert.equal(dialectOf({ type: "object" }), "draft-07");
    assert.equal(dialectOf({ properties: { a: { type: "array", prefixItems: [{}] } } }), "2020-12");
    assert.equal(dialectOf({ properties: { a: { items: [{}] }, b: { prefixItems: [{}] } } }), "draft-07");
    assert.equal(
      dialectOf({ properties: { prefixItems: { type: "string" } } }),
      "draft-07",
      "a property name is no keyword",
    );
  });
});
