/** A JSON Schema document or fragment, as MCP servers publish it. */
export type JsonSchema = Record<string, unknown>;

export function isJsonSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
