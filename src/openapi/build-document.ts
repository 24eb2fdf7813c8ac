import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from "@asteasolutions/zod-to-openapi";
/** The generated document (the type comes from the generator, so no direct dependency on its types package). */
export type OpenAPIObject = ReturnType<OpenApiGeneratorV31["generateDocument"]>;
import { CALL_TOOL_RESULT_SCHEMA, RAW_RESULT_MEDIA_TYPE, type Catalog, type JsonSchema } from "../catalog/index.js";
import type { Logger } from "../log/logger.js";
import { OperationIdAllocator } from "../catalog/index.js";
import {
  aggregateHealthResponseSchema,
  errorResponseSchema,
  healthResponseSchema,
  validationErrorResponseSchema,
} from "./route-schemas.js";
import { addTaskPaths } from "./task-paths.js";
import { translateSchema } from "./translate-schema.js";
import { addOperationPaths, type OperationsMount } from "./operation-paths.js";

export interface DocumentMount extends OperationsMount {
  /** Path prefix of the server's routes: "" at the root, "/github" in config mode. */
  readonly prefix: string;
  /** Tag for the server's operations, and the prefix of their operationIds ("github_create_issue"). */
  readonly name?: string;
  /** undefined while the server has not connected yet: it has no operations then. */
  readonly catalog: Catalog | undefined;
}

export interface DocumentInput {
  readonly title: string;
  readonly description: string;
  readonly version: string;
  /** Where the paths start, as `servers[0].url` ("/mcpo", "/github"); "" for none. */
  readonly serverUrl: string;
  /** Which `/health` the document describes: one server's, or every server's (multi mode root). */
  readonly health: "single" | "aggregate";
  readonly mounts: readonly DocumentMount[];
  /** Whether tool routes need `Authorization: Bearer <api key>`. */
  readonly bearerAuth: boolean;
  readonly logger: Logger;
}


/**
 * Builds the OpenAPI 3.1 document from the catalogs: our own routes from zod
 * schemas, each tool from its JSON Schema, carried over by translateSchema.
 * Built when a catalog changes, never per request.
 */
export function buildOpenApiDocument(input: DocumentInput): OpenAPIObject {
  const registry = new OpenAPIRegistry();
  const security = input.bearerAuth ? [{ bearerAuth: [] }] : undefined;
  if (input.bearerAuth) {
    registry.registerComponent("securitySchemes", "bearerAuth", {
      type: "http",
      scheme: "bearer",
      description: "The proxy's API key (--api-key)",
    });
  }
  const error = (description: string): ResponseConfig => ({
    description,
    content: { "application/json": { schema: errorResponseSchema } },
  });

  const healthSchema = input.health === "single" ? healthResponseSchema : aggregateHealthResponseSchema;
  registry.registerPath({
    method: "get",
    path: "/health",
    // No operationId: Open WebUI offers every operation that has one to its model as a tool, and a model has no
    // use for the proxy's health.
    summary: "Health",
    description:
      input.health === "single"
        ? "Checks the upstream MCP server now (an MCP ping) and reports its connection state."
        : "Checks every upstream MCP server now (an MCP ping each) and reports their connection states.",
    responses: {
      200: {
        description:
          input.health === "single" ? "The upstream is connected and answers" : "Every enabled server is connected and answers",
        content: { "application/json": { schema: healthSchema } },
      },
      503: {
        description:
          input.health === "single"
            ? "The upstream is not connected or does not answer"
            : "At least one enabled server is not connected or does not answer",
        content: { "application/json": { schema: healthSchema } },
      },
    },
  });

  registry.registerComponent("schemas", "McpCallToolResult", CALL_TOOL_RESULT_SCHEMA);
  registry.registerComponent("schemas", "McpToolEventStream", EVENT_STREAM_SCHEMA);
  // Ids stay unique across mounts.
  const ids = new OperationIdAllocator();
  for (const mount of input.mounts) {
    // No operationId: Open WebUI turns only operations with one into tools for its model.
    registry.registerPath({
      method: "get",
      path: `${mount.prefix}/tools`,
      summary: "MCP tool definitions",
      description:
        "The served tools as the upstream MCP server defines them (MCP `Tool` objects), with their input and " +
        "output schemas untouched: the request and response schemas in this document are adapted for OpenAPI.",
      ...(mount.name ? { tags: [mount.name] } : {}),
      responses: {
        200: {
          description: "The tool definitions",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { tools: { type: "array", items: { type: "object", additionalProperties: true } } },
                required: ["tools"],
              },
            },
          },
        },
      },
    });
    for (const route of mount.catalog?.routes ?? []) {
      const operationId = ids.allocate(mount.name ? `${mount.name}_${route.operationId}` : route.operationId);
      const body = translate(route.inputSchema, operationId, "input", registry, input.logger);
      const output = route.outputSchema
        ? translate(route.outputSchema, operationId, "output", registry, input.logger)
        : undefined;
      const result = output ?? {
        description: "The tool's result: JSON when the tool answered JSON, else text; several items form an array",
      };
      const rawResult = { $ref: "#/components/schemas/McpCallToolResult" };
      registry.registerPath({
        method: "post",
        path: `${mount.prefix}${route.path}`,
        operationId,
        summary: route.summary,
        description: route.description,
        ...(mount.name ? { tags: [mount.name] } : {}),
        ...(security ? { security } : {}),
        // No parameters, no body: Open WebUI's backend refuses to call an operation that has a request body
        // with an empty argument object ("Request body expected"), as Python mcpo also avoids. The route
        // still accepts {} or no body at all.
        ...(declaresParameters(body)
          ? { request: { body: { required: true, content: { "application/json": { schema: body } } } } }
          : {}),
        responses: {
          200: {
            description:
              `Tool result. With \`Accept: ${RAW_RESULT_MEDIA_TYPE}\`: the whole MCP CallToolResult, ` +
              "with status 200 even when the tool reports an error (isError). With `Accept: text/event-stream`: " +
              "the call as Server-Sent Events",
            content: {
              "application/json": { schema: result },
              [RAW_RESULT_MEDIA_TYPE]: {
                schema: output ? { allOf: [rawResult, { properties: { structuredContent: output } }] } : rawResult,
              },
              "text/event-stream": { schema: { $ref: "#/components/schemas/McpToolEventStream" } },
            },
          },
          400: error("The body is not valid JSON"),
          ...(security ? { 401: error("No API key sent"), 403: error("Wrong API key") } : {}),
          404: error("The tool is not (or no longer) offered by the upstream"),
          413: error("The body is larger than the limit"),
          422: {
            description: "The arguments do not match the tool's input schema",
            content: { "application/json": { schema: validationErrorResponseSchema } },
          },
          500: error("The tool ran and reported an error (isError), unless the raw MCP result was asked for"),
          502: error("The upstream answered with an error"),
          503: error("The upstream is not connected (see Retry-After)"),
          504: error("The upstream did not answer within the tool timeout; the call was cancelled"),
        },
      });
    }
  }
  addOperationPaths(registry, input.mounts, ids, { security, error });

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: { title: input.title, description: input.description, version: input.version },
    ...(input.serverUrl ? { servers: [{ url: input.serverUrl }] } : {}),
  });
  addTaskPaths(document, input.mounts);
  return document;
}

/**
 * A streamed call (`Accept: text/event-stream`), in prose: OpenAPI 3.1 cannot type the events themselves
 * (`itemSchema` is 3.2's). One component for every tool: the document stays small (Open WebUI fetches it often).
 */
const EVENT_STREAM_SCHEMA = {
  type: "string",
  description:
    "Server-Sent Events, sent as they happen. `progress`: {progress, total?, message?} for each progress " +
    "notification of the call. `log`: {level, logger?, data}, a log message the upstream sent about this call " +
    "(Streamable HTTP upstreams only). `task`: {status, status_message?}, each status of the MCP task a tool runs " +
    "as. Then exactly one of `result` (data: the JSON body a plain call answers) or " +
    "`error` (data: {status, detail}, the status and body a plain call would have answered), and the stream ends. " +
    "A `: keep-alive` comment goes out after 15 s without an event. Errors found before the call is sent " +
    "(authentication, validation, an upstream that is down) are plain HTTP errors.",
} as const;

/** Whether a tool's input schema names any parameter (or may, through a reference or a combination). */
function declaresParameters(schema: JsonSchema): boolean {
  const properties = schema.properties;
  if (typeof properties === "object" && properties !== null && Object.keys(properties).length > 0) return true;
  return ["$ref", "allOf", "anyOf", "oneOf", "patternProperties", "if"].some((keyword) => keyword in schema);
}

function translate(
  schema: JsonSchema,
  operationId: string,
  role: "input" | "output",
  registry: OpenAPIRegistry,
  logger: Logger,
): JsonSchema {
  let translated: ReturnType<typeof translateSchema>;
  try {
    translated = translateSchema(schema, `${operationId}_${role}`);
  } catch (error) {
    // One tool's schema must never cost the document (in config mode, every server's): that one is left untyped.
    logger.warn({ operationId, role, err: error }, "a tool's schema could not be documented; it is documented as {}");
    return {};
  }
  for (const [name, component] of Object.entries(translated.components)) {
    registry.registerComponent("schemas", name, component);
  }
  for (const problem of translated.problems) logger.warn({ operationId, role }, problem);
  return translated.schema;
}
