import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonSchema } from "../../../src/catalog/json-schema.js";
import { ValidatorFactory } from "../../../src/catalog/validator.js";

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

  it("falls back to an object check when a schema cannot be compiled", () => {
    const failures: [JsonSchema, unknown][] = [];
    const schema: JsonSchema = { type: "object", properties: { a: { type: "nonsense" } } };
    const validate = new ValidatorFactory((s, error) => failures.push([s, error])).compile(schema);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.[0], schema);
    assert.ok(failures[0]?.[1] instanceof Error);
    assert.equal(validate({ a: "anything" }), null);
    assert.deepEqual(validate([1]), NOT_OBJECT);
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
});
