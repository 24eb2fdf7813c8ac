import assert from "node:assert/strict";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { convertOpenApi, type OpenWebUiTool } from "./open-webui.js";
import { toolOperation } from "./openapi.js";

type Json = Record<string, any>;

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
/** What Open WebUI (and OpenAI-style function calling) accepts as a tool name. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Keywords of a parameter that the model must see as the MCP tool declared them. */
const KEPT = ["type", "enum", "const", "format", "pattern", "default", "items", "minimum", "maximum", "required"];

/**
 * Asserts that Open WebUI would offer every MCP tool in `tools` to the model,
 * under a valid unique name, with a description, and with exactly the
 * parameters the tool declares (their types, enums, formats... intact).
 * Returns the converted tools by MCP tool name.
 */
export function assertOpenWebUiReadsEveryTool(doc: Json, tools: readonly Tool[]): Map<string, OpenWebUiTool> {
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const key of Object.keys(item))
      assert.ok(HTTP_METHODS.has(key), `path ${path} holds "${key}", not only operations`);
  }
  const converted = convertOpenApi(doc); // throws where Open WebUI would drop the whole server
  const names = converted.map((tool) => tool.name);
  assert.equal(new Set(names).size, names.length, "Open WebUI discards tools whose names repeat");
  for (const name of names) assert.match(name, TOOL_NAME);
  const byOperationId = new Map(converted.map((tool) => [tool.name, tool]));

  const byToolName = new Map<string, OpenWebUiTool>();
  for (const tool of tools) {
    const seen = byOperationId.get(toolOperation(doc, tool.name).operationId);
    assert.ok(seen, `Open WebUI sees tool ${JSON.stringify(tool.name)}`);
    assert.ok(seen.description.trim(), `${tool.name}: a description`);
    const declared = (tool.inputSchema.properties ?? {}) as Json;
    assert.deepEqual(
      Object.keys(seen.parameters.properties).sort(),
      Object.keys(declared).sort(),
      `${tool.name}: parameters`,
    );
    assert.deepEqual(
      [...seen.parameters.required].sort(),
      [...(tool.inputSchema.required ?? [])].sort(),
      `${tool.name}: required`,
    );
    for (const [key, property] of Object.entries(declared)) {
      const original = resolveLocal(tool.inputSchema, property);
      for (const keyword of KEPT) {
        if (keyword in original && !containsRef(original[keyword])) {
          const what = `${tool.name}: ${key}.${keyword}`;
          const actual: Json = seen.parameters.properties[key];
          if (keyword === "items" && Array.isArray(original.items)) {
            assert.deepEqual(actual.prefixItems, original.items, `${what}, a draft-07 tuple, as prefixItems`);
          } else {
            // A boolean items schema reaches the model as {}: we serve `true` as {} (Open WebUI's resolver
            // fails on it), and Open WebUI itself turns `false` into {} ("if not schema: return {}").
            const expected = keyword === "items" && typeof original.items === "boolean" ? {} : original[keyword];
            assert.deepEqual(actual[keyword], expected, what);
          }
        }
      }
    }
    byToolName.set(tool.name, seen);
  }
  return byToolName;
}

/** A property schema with its own local `$ref` followed (Open WebUI inlines those), within the tool's schema. */
function resolveLocal(root: Json, schema: Json): Json {
  let node = schema;
  for (let hops = 0; typeof node.$ref === "string" && node.$ref.startsWith("#") && hops < 10; hops++) {
    const path = node.$ref.slice(1).split("/").slice(1);
    node = path.reduce<any>((at, key) => at?.[key.replace(/~1/g, "/").replace(/~0/g, "~")], root) ?? {};
  }
  return node;
}

/** Whether a keyword's value has a ref inside: its rewritten form differs by design, the test checks it elsewhere. */
function containsRef(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('"$ref"');
}
