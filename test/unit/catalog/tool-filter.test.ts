import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tool } from "@modelcontextprotocol/client";
import { filterTools } from "../../../src/catalog/tool-filter.js";

const tools: Tool[] = ["read", "write", "delete", "list"].map((name) => ({
  name,
  inputSchema: { type: "object" },
}));
const names = (result: { tools: Tool[] }): string[] => result.tools.map((tool) => tool.name);

describe("filterTools", () => {
  it("lets every tool through with no filter", () => {
    const result = filterTools(tools, { disabled: [] });
    assert.deepEqual(names(result), ["read", "write", "delete", "list"]);
    assert.deepEqual(result.unknownNames, []);
  });

  it("keeps only the allow-list, in the server's order", () => {
    const result = filterTools(tools, { enabled: ["list", "read"], disabled: [] });
    assert.deepEqual(names(result), ["read", "list"]);
    assert.deepEqual(result.unknownNames, []);
  });

  it("serves nothing with an empty allow-list", () => {
    assert.deepEqual(names(filterTools(tools, { enabled: [], disabled: [] })), []);
  });

  it("drops the deny-list", () => {
    assert.deepEqual(names(filterTools(tools, { disabled: ["delete", "write"] })), ["read", "list"]);
  });

  it("applies the deny-list within the allow-list", () => {
    const result = filterTools(tools, { enabled: ["read", "delete"], disabled: ["delete"] });
    assert.deepEqual(names(result), ["read"]);
    assert.deepEqual(result.unknownNames, []);
  });

  it("lists the names the server does not have, allow-list first", () => {
    const result = filterTools(tools, { enabled: ["read", "reed"], disabled: ["drop", "write"] });
    assert.deepEqual(names(result), ["read"]);
    assert.deepEqual(result.unknownNames, ["reed", "drop"]);
  });
});
