/** Reading tool operations and schemas out of a served OpenAPI document. */
type Json = Record<string, any>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null;

/** The node a local "#/a/b" pointer names in `doc`. */
export function resolveRef(doc: Json, ref: string): unknown {
  return readPath(doc, ref.replace(/^#/, ""));
}

/** The POST operation of the tool named `toolName` (its path is the URL-encoded name). */
export function toolOperation(doc: Json, toolName: string): Json {
  const operation = doc.paths?.[`/${encodeURIComponent(toolName)}`]?.post;
  if (!isObject(operation)) throw new Error(`no operation for tool ${JSON.stringify(toolName)}`);
  return operation;
}

/** The JSON request body schema of a tool's operation; undefined for a tool without parameters (no body). */
export function bodySchema(doc: Json, toolName: string): Json | undefined {
  return toolOperation(doc, toolName).requestBody?.content["application/json"].schema;
}

/**
 * Reads a JSON pointer inside `schema`; where the next key is not on a node
 * that holds a `$ref`, the ref is followed first (within `doc`).
 */
export function readPointer(doc: Json, schema: unknown, pointer: string): unknown {
  let node: unknown = schema;
  for (const key of segments(pointer)) {
    for (let hops = 0; isObject(node) && !(key in node) && typeof node.$ref === "string"; hops++) {
      if (hops > 20) throw new Error(`$ref loop reading ${pointer}`);
      node = resolveRef(doc, node.$ref);
    }
    node = isObject(node) ? node[key] : undefined;
  }
  return node;
}

function readPath(root: unknown, pointer: string): unknown {
  let node = root;
  for (const key of segments(pointer)) node = isObject(node) ? node[key] : undefined;
  return node;
}

function segments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
