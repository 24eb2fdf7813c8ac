/**
 * What Open WebUI makes of an OpenAPI tool server, step by step as its
 * backend does it (backend/open_webui/utils/tools.py: resolve_schema,
 * convert_openapi_to_tool_payload, execute_tool_server), quirks included:
 * a recursive schema or a boolean property schema makes the conversion throw,
 * and Open WebUI then drops the whole server ("Failed to connect").
 */
type Json = Record<string, any>;

/** One tool as Open WebUI hands it to the model. */
export interface OpenWebUiTool {
  name: string;
  description: string;
  parameters: { type: string; properties: Json; required: string[] };
}

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Python's default recursion limit, give or take the frames around it. */
const RECURSION_LIMIT = 990;

/**
 * resolve_schema: inlines `$ref`s (walking `components` with the parts after
 * "#/components"), on the schema itself, its `properties` and its `items`
 * only; the siblings of a `$ref` are dropped; no guard against cycles.
 */
export function resolveSchema(schema: unknown, components: Json, depth = 0): unknown {
  if (depth > RECURSION_LIMIT) throw new Error("RecursionError: maximum recursion depth exceeded");
  if (isFalsyInPython(schema)) return {};
  if (typeof schema !== "object") throw new TypeError(`argument of type '${typeof schema}' is not iterable`);
  if (Array.isArray(schema)) return structuredClone(schema); // '"$ref" in list' is False; nothing to walk
  const node = schema as Json;
  if ("$ref" in node) {
    let resolved: unknown = components;
    for (const part of String(node.$ref)
      .replace(/^[#/]+|[#/]+$/g, "")
      .split("/")
      .slice(1)) {
      if (!isObject(resolved)) throw new TypeError(`'${typeof resolved}' object has no attribute 'get'`);
      resolved = resolved[part] ?? {};
    }
    return resolveSchema(resolved, components, depth + 1);
  }
  const copy = structuredClone(node);
  if ("properties" in copy) {
    for (const [key, value] of Object.entries(copy.properties as Json)) {
      copy.properties[key] = resolveSchema(value, components, depth + 1);
    }
  }
  if ("items" in copy) copy.items = resolveSchema(copy.items, components, depth + 1);
  return copy;
}

function isFalsyInPython(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return !value;
}

/** convert_openapi_to_tool_payload: one tool per operation that has an operationId. */
export function convertOpenApi(doc: Json): OpenWebUiTool[] {
  const tools: OpenWebUiTool[] = [];
  for (const methods of Object.values(doc.paths ?? {}) as Json[]) {
    for (const operation of Object.values(methods) as Json[]) {
      if (!operation.operationId) continue; // a path-level key that is no operation breaks older versions here
      const tool: OpenWebUiTool = {
        name: operation.operationId,
        // The description key wins even when empty; summary only when it is missing.
        description:
          "description" in operation ? operation.description : (operation.summary ?? "No description available."),
        parameters: { type: "object", properties: {}, required: [] },
      };
      for (const parameter of operation.parameters ?? []) {
        tool.parameters.properties[parameter.name] = { type: parameter.schema?.type, description: "" };
        if (parameter.required) tool.parameters.required.push(parameter.name);
      }
      const schema = operation.requestBody?.content?.["application/json"]?.schema;
      if (schema) {
        const resolved = resolveSchema(schema, doc.components ?? {}) as Json;
        if (isObject(resolved.properties) && Object.keys(resolved.properties).length > 0) {
          Object.assign(tool.parameters.properties, resolved.properties);
          if ("required" in resolved) {
            tool.parameters.required = [...new Set([...tool.parameters.required, ...resolved.required])];
          }
        } else if (resolved.type === "array") {
          tool.parameters = resolved as OpenWebUiTool["parameters"];
        }
      }
      tools.push(tool);
    }
  }
  return tools;
}

/** The model's arguments as Open WebUI sends them: only the declared parameters. */
export function keepDeclared(tool: OpenWebUiTool, args: Json): Json {
  return Object.fromEntries(Object.entries(args).filter(([key]) => key in tool.parameters.properties));
}

/**
 * execute_tool_server: finds the operation by operationId and POSTs the
 * arguments as JSON to `{base}{path}`, without following redirects (Open WebUI
 * treats any status >= 400 as an error; a 3xx is no answer either).
 * Its Python backend also refuses to send an empty argument object when the
 * operation has a request body ("Request body expected ... but none found"):
 * reproduced, since a tool without parameters is always called that way.
 */
export async function callAsOpenWebUi(
  base: string,
  doc: Json,
  name: string,
  args: Json,
): Promise<{ status: number; body: unknown; seen: ModelView }> {
  for (const [path, methods] of Object.entries(doc.paths ?? {}) as [string, Json][]) {
    for (const [method, operation] of Object.entries(methods) as [string, Json][]) {
      if (operation?.operationId !== name) continue;
      if (operation.requestBody?.content && isFalsyInPython(args)) {
        throw new Error(`Request body expected for operation '${name}' but none found.`);
      }
      const response = await fetch(`${base}${path}`, {
        method: method.toUpperCase(),
        headers: { "content-type": "application/json", accept: "*/*" },
        body: JSON.stringify(args),
        redirect: "manual",
        signal: AbortSignal.timeout(30_000),
      });
      const type = response.headers.get("content-type") ?? "";
      const bytes = Buffer.from(await response.arrayBuffer());
      const text = bytes.toString("utf8");
      const body = type.includes("json") ? JSON.parse(text) : type.startsWith("image/") ? bytes : text;
      return { status: response.status, body, seen: modelView(response.status, type, body) };
    }
  }
  throw new Error(`No matching route found for operationId: ${name}`);
}

/** What Open WebUI's model is given for a tool server's answer (REFERENCE section 7, seen with its real backend). */
export type ModelView =
  | { kind: "error"; text: string }
  | { kind: "text"; text: string }
  | { kind: "json"; value: unknown; files: string[] }
  | { kind: "image"; mimeType: string; bytes: Buffer };

/**
 * Its handling of a tool answer: a status >= 400 becomes an error text; an `image/*` body reaches the model as a
 * picture; `text/*` as text; JSON `null` or empty as ""; a JSON array as `{"results": [...]}`, with every data-URL
 * string moved out into a chat file (the model sees neither the string nor the picture).
 */
function modelView(status: number, type: string, body: unknown): ModelView {
  if (status >= 400) return { kind: "error", text: `HTTP error ${status}: ${JSON.stringify(body)}` };
  if (type.startsWith("image/")) return { kind: "image", mimeType: type.split(";")[0]!, bytes: body as Buffer };
  if (!type.includes("json")) return { kind: "text", text: String(body) };
  if (body === null || body === "") return { kind: "text", text: "" };
  if (!Array.isArray(body)) return { kind: "json", value: body, files: [] };
  const files = body.filter((item): item is string => typeof item === "string" && item.startsWith("data:"));
  return { kind: "json", value: { results: body.filter((item) => !files.includes(item as string)) }, files };
}
