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
 * Every object subschema of `node` (itself included), depth first. Walks
 * schema positions only, so a property named "prefixItems" is not mistaken
 * for the keyword.
 */
export function* subschemas(node: JsonSchema): Generator<JsonSchema> {
  yield node;
  for (const keyword of SCHEMA_KEYWORDS) {
    const value = node[keyword];
    if (isJsonSchemaObject(value)) yield* subschemas(value);
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const value = node[keyword];
    if (Array.isArray(value)) for (const item of value) if (isJsonSchemaObject(item)) yield* subschemas(item);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const value = node[keyword];
    if (isJsonSchemaObject(value))
      for (const item of Object.values(value)) if (isJsonSchemaObject(item)) yield* subschemas(item);
  }
}
