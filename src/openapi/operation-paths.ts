import type { OpenAPIRegistry, ResponseConfig } from "@asteasolutions/zod-to-openapi";
import { OPERATION_ID_PATTERN, type OperationIdAllocator, type JsonSchema } from "../catalog/index.js";
import type { Offerings, Prompt } from "../upstream/index.js";
import { validationErrorResponseSchema } from "./route-schemas.js";

/** A mount as its resource and prompt routes are documented. */
export interface OperationsMount {
  /** Path prefix: "" at the root, "/github" in config mode. */
  readonly prefix: string;
  /** Tag and operationId prefix in config mode's root document. */
  readonly name?: string;
  /** What the upstream offers; undefined or nothing offered: no routes. */
  readonly offerings?: Offerings;
}

export interface OperationPathsContext {
  /** Security requirement of the routes (bearer auth), as for tool routes. */
  readonly security: { bearerAuth: string[] }[] | undefined;
  /** An error response in the document's error shape. */
  readonly error: (description: string) => ResponseConfig;
}

/** Most resource URIs listed as examples of read_resource's `uri`: the list route pages through the rest. */
const URI_EXAMPLES = 50;

const OBJECT = { type: "object", additionalProperties: true } as const;
const RESOURCE: JsonSchema = {
  ...OBJECT,
  description: "An MCP Resource",
  properties: {
    uri: { type: "string" },
    name: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    mimeType: { type: "string" },
    size: { type: "integer" },
  },
  required: ["uri", "name"],
};
const TEMPLATE: JsonSchema = {
  ...OBJECT,
  description: "An MCP ResourceTemplate: `uriTemplate` is an RFC 6570 URI template",
  properties: {
    uriTemplate: { type: "string" },
    name: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    mimeType: { type: "string" },
  },
  required: ["uriTemplate", "name"],
};
const PROMPT: JsonSchema = {
  ...OBJECT,
  description: "An MCP Prompt",
  properties: {
    name: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    arguments: {
      type: "array",
      items: {
        ...OBJECT,
        properties: { name: { type: "string" }, description: { type: "string" }, required: { type: "boolean" } },
        required: ["name"],
      },
    },
  },
  required: ["name"],
};
const CONTENTS: JsonSchema = {
  ...OBJECT,
  description: "MCP resource contents: `text`, or `blob` (base64)",
  properties: {
    uri: { type: "string" },
    mimeType: { type: "string" },
    text: { type: "string" },
    blob: { type: "string", contentEncoding: "base64" },
  },
  required: ["uri"],
};
const PROMPT_RESULT: JsonSchema = {
  ...OBJECT,
  description: "An MCP GetPromptResult",
  properties: {
    description: { type: "string" },
    messages: {
      type: "array",
      items: {
        ...OBJECT,
        properties: { role: { type: "string", enum: ["user", "assistant"] }, content: OBJECT },
        required: ["role", "content"],
      },
    },
  },
  required: ["messages"],
};

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const page = (key: string, item: string): JsonSchema => ({
  type: "object",
  properties: {
    [key]: { type: "array", items: ref(item) },
    nextCursor: { type: "string", description: "Where the next page starts: pass it as `cursor`; absent on the last" },
  },
  required: [key],
});
const CURSOR = {
  name: "cursor",
  in: "query" as const,
  required: false,
  description: "The `nextCursor` of the previous page; absent for the first",
  schema: { type: "string" as const },
};

/**
 * Documents the resource and prompt routes of every mount that offers them (operation-routes.ts serves them), after
 * the tools, so a tool keeps its operationId and one of these that would take it gets a suffix. Open WebUI makes a
 * tool of every operation with an operationId: `list_resources`, `list_resource_templates`, `read_resource` (the
 * POST form, which takes a JSON body), `list_prompts`, and `get_prompt_<name>` per prompt (POST, its arguments as
 * the body), prefixed with the server's name in config mode's root document. The GET forms of reading a resource
 * and getting a prompt have none (one tool each is enough).
 */
export function addOperationPaths(
  registry: OpenAPIRegistry,
  mounts: readonly OperationsMount[],
  ids: OperationIdAllocator,
  context: OperationPathsContext,
): void {
  const offering = mounts.filter((mount) => mount.offerings?.resources || mount.offerings?.prompts);
  if (offering.length === 0) return;
  for (const [name, schema] of Object.entries({
    McpResource: RESOURCE,
    McpResourceTemplate: TEMPLATE,
    McpResourceContents: CONTENTS,
    McpPrompt: PROMPT,
    McpGetPromptResult: PROMPT_RESULT,
  })) {
    registry.registerComponent("schemas", name, schema);
  }
  for (const mount of offering) {
    const offerings = mount.offerings!;
    if (offerings.resources) addResourcePaths(registry, mount, offerings, ids, context);
    if (offerings.prompts) addPromptPaths(registry, mount, offerings, ids, context);
  }
}

function addResourcePaths(
  registry: OpenAPIRegistry,
  mount: OperationsMount,
  offerings: Offerings,
  ids: OperationIdAllocator,
  context: OperationPathsContext,
): void {
  const common = commonOf(mount, context);
  const id = (name: string): string => ids.allocate(mount.name ? `${mount.name}_${name}` : name);
  registry.registerPath({
    method: "get",
    path: `${mount.prefix}/resources`,
    operationId: id("list_resources"),
    summary: "List resources",
    description: "One page of the resources the MCP server lists (resources/list); `nextCursor` leads to the next.",
    ...common,
    parameters: [CURSOR],
    responses: responses(context, "The page", page("resources", "McpResource")),
  });
  registry.registerPath({
    method: "get",
    path: `${mount.prefix}/resources/templates`,
    operationId: id("list_resource_templates"),
    summary: "List resource templates",
    description:
      "One page of the resource templates (resources/templates/list): URI templates whose expansions read_resource reads.",
    ...common,
    parameters: [CURSOR],
    responses: responses(context, "The page", page("resourceTemplates", "McpResourceTemplate")),
  });

  const uri = uriSchema(offerings);
  const read = {
    summary: "Read a resource",
    description:
      "Reads one resource by URI (resources/read). The answer is `{contents: [...]}` as MCP gives it (text, or " +
      "binary as base64 in `blob`); when there is one item and `Accept` names its media type (or its `type/*`), " +
      "the answer is its bytes with that Content-Type instead.",
    ...common,
  };
  const answers = {
    ...responses(context, "The resource's contents", {
      type: "object",
      properties: { contents: { type: "array", items: ref("McpResourceContents") } },
      required: ["contents"],
    }),
    404: context.error("The upstream has no resource at this URI"),
  };
  registry.registerPath({
    method: "post",
    path: `${mount.prefix}/resources/read`,
    operationId: id("read_resource"),
    ...read,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "object", properties: { uri }, required: ["uri"], additionalProperties: false },
          },
        },
      },
    },
    responses: answers,
  });
  registry.registerPath({
    method: "get",
    path: `${mount.prefix}/resources/read`,
    ...read,
    parameters: [{ name: "uri", in: "query", required: true, schema: uri }],
    responses: answers,
  });
}

function addPromptPaths(
  registry: OpenAPIRegistry,
  mount: OperationsMount,
  offerings: Offerings,
  ids: OperationIdAllocator,
  context: OperationPathsContext,
): void {
  const common = commonOf(mount, context);
  registry.registerPath({
    method: "get",
    path: `${mount.prefix}/prompts`,
    operationId: ids.allocate(mount.name ? `${mount.name}_list_prompts` : "list_prompts"),
    summary: "List prompts",
    description: "One page of the MCP server's prompts (prompts/list); `nextCursor` leads to the next.",
    ...common,
    parameters: [CURSOR],
    responses: responses(context, "The page", page("prompts", "McpPrompt")),
  });
  const promptIds = allocatePromptIds(offerings.promptList, mount.name ? `${mount.name}_get_prompt_` : "get_prompt_", ids);
  for (const prompt of offerings.promptList) {
    const path = `${mount.prefix}/prompts/${encodeURIComponent(prompt.name)}`;
    const properties: Record<string, JsonSchema> = Object.fromEntries(
      (prompt.arguments ?? []).map((argument): [string, JsonSchema] => [
        argument.name,
        { type: "string", ...(argument.description ? { description: argument.description } : {}) },
      ]),
    );
    const required = (prompt.arguments ?? []).filter((argument) => argument.required).map((argument) => argument.name);
    const description =
      `${prompt.description ?? `The prompt "${prompt.name}"`}\n\n` +
      "Gets the prompt's messages (prompts/get) with these arguments (strings).";
    const answers = {
      ...responses(context, "The prompt's messages (an MCP GetPromptResult)", ref("McpGetPromptResult")),
      404: context.error("The upstream no longer has this prompt"),
    };
    const summary = prompt.title ?? `Prompt ${prompt.name}`;
    registry.registerPath({
      method: "post",
      path,
      operationId: promptIds.get(prompt)!,
      summary,
      description,
      ...common,
      // No arguments, no body: Open WebUI refuses to call an operation with a body and an empty argument object.
      ...(Object.keys(properties).length > 0
        ? {
            request: {
              body: {
                required: true,
                content: {
                  "application/json": {
                    schema: { type: "object", properties, required, additionalProperties: false } as JsonSchema,
                  },
                },
              },
            },
          }
        : {}),
      responses: answers,
    });
    registry.registerPath({
      method: "get",
      path,
      summary,
      description: `${description} The same, with the arguments in the query.`,
      ...common,
      parameters: queryParameters(prompt),
      responses: answers,
    });
  }
}

/**
 * `get_prompt_<name>` for each prompt, unique: prompts whose id needs no change are served first, so "my_prompt"
 * keeps its id when "my prompt" (which sanitizes to the same) is listed before it (as tool ids are allocated).
 */
function allocatePromptIds(
  prompts: readonly Prompt[],
  prefix: string,
  ids: OperationIdAllocator,
): Map<Prompt, string> {
  const allocated = new Map<Prompt, string>();
  for (const prompt of prompts) {
    if (OPERATION_ID_PATTERN.test(`${prefix}${prompt.name}`)) allocated.set(prompt, ids.allocate(`${prefix}${prompt.name}`));
  }
  for (const prompt of prompts) if (!allocated.has(prompt)) allocated.set(prompt, ids.allocate(`${prefix}${prompt.name}`));
  return allocated;
}

function queryParameters(prompt: Prompt): { name: string; in: "query"; required: boolean; schema: JsonSchema }[] {
  return (prompt.arguments ?? []).map((argument) => ({
    name: argument.name,
    in: "query" as const,
    required: argument.required === true,
    ...(argument.description ? { description: argument.description } : {}),
    schema: { type: "string" },
  }));
}

/** read_resource's `uri`: the known URIs as examples, the templates in words (a model expands them). */
function uriSchema(offerings: Offerings): JsonSchema {
  const templates = offerings.templates.map(
    (template) => `\`${template.uriTemplate}\`${template.description ? ` (${template.description})` : ""}`,
  );
  const examples = offerings.resourceList.slice(0, URI_EXAMPLES).map((resource) => resource.uri);
  return {
    type: "string",
    minLength: 1,
    description:
      "The resource's URI, as list_resources gives it" +
      (templates.length > 0 ? `, or an expansion of a template: ${templates.join("; ")}` : ""),
    ...(examples.length > 0 ? { examples } : {}),
  };
}

function commonOf(
  mount: OperationsMount,
  context: OperationPathsContext,
): { tags?: string[]; security?: { bearerAuth: string[] }[] } {
  return { ...(mount.name ? { tags: [mount.name] } : {}), ...(context.security ? { security: context.security } : {}) };
}

/** The answers every route shares, around its 200. */
function responses(context: OperationPathsContext, description: string, schema: JsonSchema): Record<number, ResponseConfig> {
  const auth: Record<number, ResponseConfig> = context.security
    ? { 401: context.error("No API key sent"), 403: context.error("Wrong API key") }
    : {};
  return {
    200: { description, content: { "application/json": { schema } } },
    400: context.error("The body is not valid JSON, or X-Tool-Timeout is not a number"),
    ...auth,
    404: context.error("The server offers no resources or prompts (of this kind)"),
    413: context.error("The body is larger than the limit"),
    422: {
      description: "Missing or invalid arguments",
      content: { "application/json": { schema: validationErrorResponseSchema } },
    },
    502: context.error("The upstream answered with an error"),
    503: context.error("The upstream is not connected (see Retry-After)"),
    504: context.error("The upstream did not answer within the tool timeout; the request was cancelled"),
  };
}
