import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkArguments } from "../../../src/catalog/arguments.js";
import { BadRequestError, InvalidArgumentsError } from "../../../src/errors/index.js";
import { MAX_BODY_DEPTH, parseBody } from "../../../src/http/json-body.js";
import { scanJson } from "../../../src/http/json-scan.js";
import { stringifyJson } from "../../../src/json/exact-integers.js";
import type { ToolRoute } from "../../../src/catalog/tool-route.js";
import { ValidatorFactory } from "../../../src/catalog/validator.js";

const BIG = "12345678901234567890";

describe("scanJson", () => {
  it("measures depth without recursion, skipping brackets inside strings", () => {
    assert.equal(scanJson(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`, 100).tooDeep, true);
    assert.equal(scanJson(`{"a":"${"[".repeat(500)}"}`, 100).tooDeep, false);
    assert.equal(scanJson(`{"a":"\\"[[[["}`, 2).tooDeep, false);
  });

  it("flags exponents and long digit runs, not true/false or digits in strings", () => {
    assert.equal(scanJson('{"a": true, "b": false, "c": 12.5}', 10).bigNumberSyntax, false);
    assert.equal(scanJson(`{"a": "${BIG}"}`, 10).bigNumberSyntax, false);
    assert.equal(scanJson('{"a": 1e400}', 10).bigNumberSyntax, true);
    assert.equal(scanJson(`{"a": ${BIG}}`, 10).bigNumberSyntax, true);
  });
});

describe("parseBody", () => {
  it(`refuses nesting beyond ${MAX_BODY_DEPTH} levels with 400`, () => {
    assert.throws(() => parseBody(`${"[".repeat(101)}${"]".repeat(101)}`), BadRequestError);
    assert.deepEqual(parseBody(`{"a":${"[".repeat(99)}${"]".repeat(99)}}`) !== undefined, true);
  });

  it("refuses non-finite numbers with 422 naming each field", () => {
    assert.throws(
      () => parseBody('{"x": 1e400, "y": [1, -1e999]}'),
      (error: unknown) =>
        error instanceof InvalidArgumentsError &&
        JSON.stringify(error.problems.map((p) => p.loc)) ===
          JSON.stringify([
            ["body", "x"],
            ["body", "y", 1],
          ]),
    );
    assert.deepEqual(parseBody('{"x": 1e300}'), { x: 1e300 });
  });

  it("skips a UTF-8 byte order mark; an empty body is {}", () => {
    assert.deepEqual(parseBody('\uFEFF{"a":1}'), { a: 1 });
    assert.deepEqual(parseBody("  "), {});
  });

  it("validates a big integer as an integer and sends it exactly", () => {
    const schema = { type: "object", properties: { id: { type: "integer" }, n: { type: "string" } } };
    const route = { inputSchema: schema, validate: new ValidatorFactory().compile(schema) } as unknown as ToolRoute;
    const checked = checkArguments(route, parseBody(`{"id": ${BIG}, "n": null}`));
    assert.equal(checked.problems, null);
    assert.equal(stringifyJson(checked.args), `{"id":${BIG}}`);
  });
});
