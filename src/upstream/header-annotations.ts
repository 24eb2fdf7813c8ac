/**
 * MCP 2026-07-28 lets a tool mirror some arguments into `Mcp-Param-*` HTTP
 * headers by annotating input properties with `x-mcp-header`. A Streamable
 * HTTP client must leave out a tool whose annotations break the rules, and
 * should say which and why. The SDK checks this only inside its own
 * `listTools()`, which we do not use (it drops the whole list for one
 * malformed tool, and warns through console.warn, which is not our log), and
 * its checker is not exported: so the rules are checked here.
 *
 * The rules: the annotation is a non-empty HTTP token (RFC 9110), on a
 * property of type string, integer or boolean, reachable from the root
 * through `properties` alone (not under items, combinators, conditionals,
 * definitions or additional properties), and unique ignoring case.
 */

const KEY = "x-mcp-header";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_TYPES = new Set(["string", "integer", "boolean"]);
/** Keywords whose subschemas are not reachable through `properties` alone. */
const UNREACHABLE = [
  "items",
  "prefixItems",
  "contains",
  "additionalProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "propertyNames",
  "patternProperties",
  "dependentSchemas",
  "oneOf",
  "anyOf",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "$defs",
  "definitions",
];

/** Why a tool's `x-mcp-header` annotations are invalid, or undefined when they are fine (or absent). */
export function headerAnnotationProblem(inputSchema: unknown): string | undefined {
  const seen = new Map<string, string>();
  const visit = (node: unknown, path: string, reachable: boolean): string | undefined => {
    if (typeof node !== "object" || node === null) return undefined;
    const schema = node as Record<string, unknown>;
    if (KEY in schema) {
      const where = path || "the root";
      const name = schema[KEY];
      if (!reachable || path === "")
        return `${where}: ${KEY} is allowed only on properties reached through "properties"`;
      if (typeof name !== "string" || !TOKEN.test(name))
        return `${where}: ${KEY} ${JSON.stringify(name)} is not an HTTP token`;
      if (typeof schema.type !== "string" || !HEADER_TYPES.has(schema.type)) {
        return `${where}: ${KEY} is allowed only on string, integer or boolean properties (got ${JSON.stringify(schema.type)})`;
      }
      const twin = seen.get(name.toLowerCase());
      if (twin !== undefined) return `${where}: ${KEY} "${name}" repeats "${twin}" (names are case-insensitive)`;
      seen.set(name.toLowerCase(), name);
    }
    const properties = schema.properties;
    if (typeof properties === "object" && properties !== null) {
      for (const [key, child] of Object.entries(properties)) {
        const problem = visit(child, path ? `${path}.${key}` : key, reachable);
        if (problem) return problem;
      }
    }
    for (const keyword of UNREACHABLE) {
      const sub = schema[keyword];
      if (sub === undefined) continue;
      const branches = Array.isArray(sub)
        ? sub
        : keyword === "$defs" ||
            keyword === "definitions" ||
            keyword === "patternProperties" ||
            keyword === "dependentSchemas"
          ? Object.values(sub as object)
          : [sub];
      for (const branch of branches) {
        const problem = visit(branch, `${path}<${keyword}>`, false);
        if (problem) return problem;
      }
    }
    return undefined;
  };
  return visit(inputSchema, "", true);
}
