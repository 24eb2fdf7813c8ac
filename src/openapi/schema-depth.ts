import { forEachSubschema, type JsonSchema } from "../catalog/index.js";

/**
 * Deepest nesting of subschemas carried into the OpenAPI document. Real
 * tool schemas nest a handful of levels; one nested 1,000 levels overflowed
 * the stack of the recursive steps that build the document (a 500 for
 * /openapi.json). Deeper parts are documented as `{}` (anything).
 */
export const MAX_SCHEMA_DEPTH = 64;

/**
 * `schema` itself when no subschema in it nests deeper than `maxDepth`;
 * else a copy with each too-deep subschema replaced by `{}`, and how many
 * were. Both walks are iterative, so any depth is safe to look at.
 */
export function limitSchemaDepth(
  schema: JsonSchema,
  maxDepth = MAX_SCHEMA_DEPTH,
): { schema: JsonSchema; pruned: number } {
  if (!tooDeep(schema, maxDepth)) return { schema, pruned: 0 };
  const copy = deepCopy(schema) as JsonSchema;
  let pruned = 0;
  forEachSubschema(copy, (node, depth, replace) => {
    if (depth < maxDepth) return true;
    replace({});
    pruned++;
    return false;
  });
  return { schema: copy, pruned };
}

function tooDeep(schema: JsonSchema, maxDepth: number): boolean {
  let found = false;
  forEachSubschema(schema, (_node, depth) => {
    if (depth >= maxDepth) found = true;
    return !found;
  });
  return found;
}

/** A deep copy of JSON data, iterative (structuredClone recurses). */
function deepCopy(value: unknown): unknown {
  const copy = (node: unknown): unknown =>
    typeof node !== "object" || node === null ? node : Array.isArray(node) ? [...node] : { ...node };
  const root = copy(value);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (typeof child === "object" && child !== null) {
        node[key] = copy(child);
        stack.push(node[key]);
      }
    }
  }
  return root;
}
