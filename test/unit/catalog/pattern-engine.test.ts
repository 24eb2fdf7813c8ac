import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidatorFactory } from "../../../src/catalog/validator.js";
import { MAX_PROBLEMS } from "../../../src/catalog/validation-problems.js";

const EVIL = `${"a".repeat(30)}!`;

describe("patterns in bounded time", () => {
  const factory = new ValidatorFactory();

  it("checks ^(a+)+$ against 30 a's and a ! at once", () => {
    const validate = factory.compile({ type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } });
    const started = performance.now();
    assert.deepEqual(validate({ s: EVIL }), [
      { loc: ["body", "s"], msg: 'Input must match pattern "^(a+)+$"', type: "pattern" },
    ]);
    assert.ok(performance.now() - started < 1000);
    assert.equal(validate({ s: "aaa" }), null);
  });

  it("keeps the u flag's meaning: an astral character is one character", () => {
    const validate = factory.compile({ type: "object", properties: { s: { type: "string", pattern: "^.$" } } });
    assert.equal(validate({ s: "😀" }), null);
    assert.ok(validate({ s: "😀😀" }));
  });

  it("leaves a backreference to the upstream with a warning", () => {
    const warnings: string[] = [];
    const validate = factory.compile(
      { type: "object", properties: { s: { type: "string", pattern: "^(a+)+\\1$" } } },
      (message) => warnings.push(message),
    );
    assert.equal(validate({ s: EVIL }), null);
    assert.match(warnings.join("\n"), /cannot be checked in bounded time/);
  });

  it(`lists at most ${MAX_PROBLEMS} problems and counts the rest`, () => {
    const validate = factory.compile({
      type: "object",
      properties: { ids: { type: "array", items: { type: "integer" } } },
    });
    const problems = validate({ ids: Array.from({ length: 1000 }, () => "x") })!;
    assert.equal(problems.length, MAX_PROBLEMS + 1);
    assert.deepEqual(problems.at(-1), {
      loc: ["body"],
      msg: "900 more problems not listed (at most 100 are)",
      type: "too_many_errors",
    });
  });
});
