import type { Tool } from "@modelcontextprotocol/client";
import type { JsonSchema } from "./json-schema.js";
import type { Validate } from "./validator.js";

/** One tool as an HTTP route: everything the router and the OpenAPI generator need. */
export interface ToolRoute {
  /** The upstream's name for the tool, sent in `tools/call`. */
  readonly toolName: string;
  /** Path below the server's mount point, URL-encoded: "/echo". */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema?: JsonSchema;
  readonly annotations?: Tool["annotations"];
  readonly validate: Validate;
}

/** The routes of one server, looked up by tool name on the hot path. */
export interface Catalog {
  readonly routes: readonly ToolRoute[];
  readonly byName: ReadonlyMap<string, ToolRoute>;
}
