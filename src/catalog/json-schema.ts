/** A JSON Schema document or fragment, as MCP servers publish it. */
export type JsonSchema = Record<string, unknown>;

export function isJsonSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keywords whose value is a schema (draft-07 and 2020-12). */
export const SCHEMA_KEYWORDS = [
  "additionalProperties",
  "items",
  "additionalItems",
  "contains",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "unevaluatedProperties",
  "unevaluatedItems",
];
/** Keywords whose value is a list of schemas (`items` too, in draft-07 tuples). */
export const SCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/** Keywords whose value maps names to schemas. */
export const SCHEMA_MAP_KEYWORDS = [
  "properties",
  "patternProperties",
  "dependentSchemas",
  "dependencies",
  "$defs",
  "definitions",
];

/**
 * Every object subschema of `node` (itself included). Walks schema positions only, so a property named
 * "prefixItems" is not mistaken for the keyword; iterative (forEachSubschema), so any depth is safe.
 */
export function subschemas(node: JsonSchema): JsonSchema[] {
  const all = [node];
  forEachSubschema(node, (child) => {
    all.push(child);
    return true;
  });
  return all;
}

/** Visits one subschema: its depth (1 for the root's own), and how to put another schema in its place. */
export type SubschemaVisit = (node: JsonSchema, depth: number, replace: (value: JsonSchema) => void) => boolean;

/**
 * Calls `visit` on each subschema below `root` (not `root` itself); a visit that returns false skips that
 * subschema's children. Iterative: a schema nested thousands of levels cannot overflow the stack.
 */
export function forEachSubschema(root: JsonSchema, visit: SubschemaVisit): void {
  const stack: { node: JsonSchema; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    const child = (container: Record<string, unknown> | unknown[], key: string | number): void => {
      const value = (container as Record<string, unknown>)[key];
      if (!isJsonSchemaObject(value)) return;
      const replace = (replacement: JsonSchema): void => {
        (container as Record<string, unknown>)[key] = replacement;
      };
      if (visit(value, depth + 1, replace)) stack.push({ node: value, depth: depth + 1 });
    };
    for (const keyword of SCHEMA_KEYWORDS) child(node, keyword);
    for (const keyword of SCHEMA_LIST_KEYWORDS) {
      const list = node[keyword];
      if (Array.isArray(list)) for (let i = 0; i < list.length; i++) child(list, i);
    }
    for (const keyword of SCHEMA_MAP_KEYWORDS) {
      const map = node[keyword];
      if (isJsonSchemaObject(map)) for (const key of Object.keys(map)) child(map, key);
    }
  }
}
