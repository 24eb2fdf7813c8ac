import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerAnnotationProblem } from "../../../src/upstream/header-annotations.js";

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  ...extra,
});

describe("headerAnnotationProblem (x-mcp-header, MCP 2026-07-28)", () => {
  it("accepts no annotations, and valid ones on string, integer and boolean properties at any depth", () => {
    assert.equal(headerAnnotationProblem(object({ a: { type: "string" } })), undefined);
    assert.equal(
      headerAnnotationProblem(
        object({
          region: { type: "string", "x-mcp-header": "Region" },
          count: { type: "integer", "x-mcp-header": "Count" },
          nested: object({ dry: { type: "boolean", "x-mcp-header": "Dry-Run" } }),
        }),
      ),
      undefined,
    );
  });

  it("refuses a name that is not an HTTP token, or empty", () => {
    assert.match(
      headerAnnotationProblem(object({ a: { type: "string", "x-mcp-header": "has space" } }))!,
      /a: .*not an HTTP token/,
    );
    assert.match(headerAnnotationProblem(object({ a: { type: "string", "x-mcp-header": "" } }))!, /not an HTTP token/);
    assert.match(headerAnnotationProblem(object({ a: { type: "string", "x-mcp-header": 3 } }))!, /not an HTTP token/);
  });

  it("refuses number, object, array and untyped properties", () => {
    for (const type of ["number", "object", "array", undefined]) {
      const problem = headerAnnotationProblem(object({ a: { ...(type ? { type } : {}), "x-mcp-header": "A" } }));
      assert.match(problem!, /only on string, integer or boolean/, String(type));
    }
  });

  it("refuses names repeated ignoring case", () => {
    const problem = headerAnnotationProblem(
      object({ a: { type: "string", "x-mcp-header": "Region" }, b: { type: "string", "x-mcp-header": "REGION" } }),
    );
    assert.match(problem!, /b: .*"REGION" repeats "Region"/);
  });

  it("refuses annotations not reached through properties alone, and on the root", () => {
    const cases = [
      object({ list: { type: "array", items: { type: "string", "x-mcp-header": "Item" } } }),
      object({}, { anyOf: [object({ a: { type: "string", "x-mcp-header": "A" } })] }),
      object({}, { additionalProperties: { type: "string", "x-mcp-header": "Extra" } }),
      object({}, { $defs: { d: { type: "string", "x-mcp-header": "Def" } } }),
      object({}, { if: object({ a: { type: "string", "x-mcp-header": "A" } }) }),
      { type: "object", "x-mcp-header": "Root" },
    ];
    for (const schema of cases) {
      assert.match(
        headerAnnotationProblem(schema)!,
        /allowed only on properties reached through "properties"/,
        JSON.stringify(schema),
      );
    }
  });
});
