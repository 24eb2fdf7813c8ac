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
  /**
   * The tool's `execution.taskSupport` when it runs as an MCP task: `required` (every call is a task) or `optional`
   * (a task when the caller sends `Prefer: respond-async`). Absent for `forbidden` and for tools that do not say.
   */
  readonly taskSupport?: "optional" | "required";
  readonly validate: Validate;
}

/** The routes of one server, looked up by tool name on the hot path. */
export interface Catalog {
  readonly routes: readonly ToolRoute[];
  readonly byName: ReadonlyMap<string, ToolRoute>;
}
