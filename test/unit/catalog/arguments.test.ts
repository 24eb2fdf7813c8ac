import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tool } from "@modelcontextprotocol/client";
import { checkArguments } from "../../../src/catalog/arguments.js";
import { buildCatalog } from "../../../src/catalog/build-catalog.js";
import { silentLogger } from "../../../src/log/logger.js";

const route = (inputSchema: Tool["inputSchema"]) =>
  buildCatalog([{ name: "t", inputSchema }], { operationIdPrefix: "", logger: silentLogger() }).routes[0]!;

const schema: Tool["inputSchema"] = {
  type: "object",
  properties: {
    region: { type: "string" },
    verbose: { type: "boolean" },
    note: { type: ["string", "null"] },
  },
  required: ["region"],
};

describe("checkArguments", () => {
  it("passes valid arguments through as they are (the same object)", () => {
    const body = { region: "eu", verbose: true, note: null };
    const checked = checkArguments(route(schema), body);
    assert.equal(checked.problems, null);
    assert.equal(checked.args, body, "a null the schema allows is kept");
  });

  it("takes a null for an optional property that does not allow null as not given", () => {
    const checked = checkArguments(route(schema), { region: "eu", verbose: null });
    assert.equal(checked.problems, null);
    assert.deepEqual(checked.args, { region: "eu" });
  });

  it("still refuses a null for a required property, and other problems, with every problem listed", () => {
    const nullRequired = checkArguments(route(schema), { region: null });
    assert.ok(nullRequired.problems);
    assert.deepEqual(nullRequired.problems[0]!.loc, ["body", "region"]);
    const wrong = checkArguments(route(schema), { region: "eu", verbose: null, note: 3 });
    assert.ok(wrong.problems, "dropping the null does not hide another problem");
    assert.deepEqual(wrong.args, { region: "eu", verbose: null, note: 3 }, "the arguments are not changed");
  });

  it("refuses a null optional property under additionalProperties: false only when it is unknown", () => {
    const strict = route({ type: "object", properties: { a: { type: "integer" } }, additionalProperties: false });
    assert.deepEqual(checkArguments(strict, { a: null }).args, {});
    assert.ok(checkArguments(strict, { a: 1, b: 2 }).problems);
  });
});
