import type { Tool } from "@modelcontextprotocol/client";
import type { Logger } from "../log/logger.js";
import { isJsonSchemaObject } from "./json-schema.js";
import { allocateOperationIds } from "./operation-id.js";
import type { Catalog, ToolRoute } from "./tool-route.js";
import { ValidatorFactory } from "./validator.js";

export interface CatalogOptions {
  /** Prefix of every operationId ("github" gives "github_create_issue"); "" in single-server mode. */
  operationIdPrefix: string;
  logger: Logger;
}

/** Turns a server's tool list into routes, compiling each validator once. */
export function buildCatalog(tools: readonly Tool[], options: CatalogOptions): Catalog {
  const prefixed = (name: string): string =>
    options.operationIdPrefix ? `${options.operationIdPrefix}_${name}` : name;
  const ids = allocateOperationIds(tools.map((tool) => prefixed(tool.name)));
  const validators = new ValidatorFactory();
  const byName = new Map<string, ToolRoute>();
  for (const tool of tools) {
    if (byName.has(tool.name)) {
      options.logger.warn({ tool: tool.name }, "the upstream lists this tool twice; serving the first");
      continue;
    }
    const inputSchema = isJsonSchemaObject(tool.inputSchema) ? tool.inputSchema : { type: "object" };
    const outputSchema = isJsonSchemaObject(tool.outputSchema) ? tool.outputSchema : undefined;
    const taskSupport = tool.execution?.taskSupport;
    const summary = tool.title ?? tool.annotations?.title ?? titleCase(tool.name);
    byName.set(tool.name, {
      toolName: tool.name,
      path: `/${encodeURIComponent(tool.name)}`,
      operationId: ids.get(prefixed(tool.name))!,
      summary,
      description: tool.description?.trim() || summary,
      inputSchema,
      ...(outputSchema ? { outputSchema } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
      ...(taskSupport === "optional" || taskSupport === "required" ? { taskSupport } : {}),
      validate: validators.compile(inputSchema, (message, error) =>
        options.logger.warn({ tool: tool.name, ...(error === undefined ? {} : { err: error }) }, message),
      ),
    });
  }
  return { routes: [...byName.values()], byName };
}

/** "get_current-time" → "Get Current Time", as Python mcpo titles its endpoints. */
export function titleCase(name: string): string {
  return name
    .split(/[_\-\s]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(" ");
}
