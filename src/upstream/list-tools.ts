import type { Client, RequestOptions, Tool } from "@modelcontextprotocol/client";
import { ToolSchema } from "@modelcontextprotocol/core";
import { z } from "zod";
import { headerAnnotationProblem } from "./header-annotations.js";

/** A server that keeps handing out cursors is cut off here rather than looping forever. */
const MAX_PAGES = 1000;

/** One page of tools/list, each tool checked on its own below. */
const lenientPage = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

export interface ToolList {
  tools: Tool[];
  /** Tools that did not match the MCP schema, with what was done about them. */
  warnings: string[];
  /** Tools left out (no name, an invalid annotation), as /health reports them. */
  skipped: SkippedTool[];
}

export interface SkippedTool {
  name: string;
  reason: string;
}

export interface ListOptions extends RequestOptions {
  /**
   * Leave out tools whose `x-mcp-header` annotations are invalid: a 2026-07-28
   * Streamable HTTP client must (header-annotations.ts).
   */
  checkHeaderAnnotations?: boolean;
}

/**
 * Lists every tool, following `nextCursor` through all pages. The SDK's
 * client.listTools() pages too, but rejects the whole list when one tool does
 * not match the MCP schema (an inputSchema without `type: "object"`, say),
 * which would keep the server down for good: here a tool with a name is kept,
 * its schemas taken as they are (validation and OpenAPI cope) and its other
 * fields of a wrong type dropped (a `description` that is a number), and a
 * tool without a name (or named "", which no route can serve) is skipped;
 * both are reported.
 */
export async function listAllTools(client: Client, options: ListOptions): Promise<ToolList> {
  const { checkHeaderAnnotations = false, ...requestOptions } = options;
  const tools: Tool[] = [];
  const warnings: string[] = [];
  const skipped: SkippedTool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await client.request(
      { method: "tools/list", params: cursor === undefined ? {} : { cursor } },
      lenientPage,
      requestOptions,
    );
    for (const raw of result.tools) {
      const tool = asTool(raw, warnings, skipped);
      const problem = tool && checkHeaderAnnotations ? headerAnnotationProblem(tool.inputSchema) : undefined;
      if (problem) {
        warnings.push(`tool "${tool!.name}" was left out: invalid x-mcp-header annotation (${problem})`);
        skipped.push({ name: tool!.name, reason: `invalid x-mcp-header annotation (${problem})` });
      } else if (tool) tools.push(tool);
    }
    cursor = result.nextCursor;
    if (cursor === undefined || seen.has(cursor)) break;
    seen.add(cursor);
  }
  return { tools, warnings, skipped };
}

function asTool(raw: unknown, warnings: string[], skipped: SkippedTool[]): Tool | undefined {
  const entry = (isObject(raw) ? raw : {}) as Record<string, unknown>;
  if (typeof entry.name !== "string" || entry.name === "") {
    const name = typeof entry.name === "string" ? entry.name : "";
    warnings.push(`a tool without a name was skipped: ${JSON.stringify(raw)?.slice(0, 200)}`);
    skipped.push({ name, reason: "it has no name, so no route can serve it" });
    return undefined;
  }
  const parsed = checkTool(raw);
  if (parsed.success) return parsed.data;
  // Kept, with what breaks the schema set right: schemas as given (validation and OpenAPI cope), text fields
  // of another type dropped.
  const dropped = ["title", "description"].filter((key) => key in entry && typeof entry[key] !== "string");
  const { title: _title, description: _description, annotations, ...rest } = entry;
  const goodAnnotations = isObject(annotations) && ["string", "undefined"].includes(typeof annotations.title);
  if (annotations !== undefined && !goodAnnotations) dropped.push("annotations");
  warnings.push(
    `tool "${entry.name}" does not match the MCP tool schema; served with its schemas as given` +
      (dropped.length > 0 ? ` and without its ${dropped.join(" and ")} (not text)` : ""),
  );
  return {
    ...rest,
    ...(typeof entry.title === "string" ? { title: entry.title } : {}),
    ...(typeof entry.description === "string" ? { description: entry.description } : {}),
    ...(goodAnnotations ? { annotations } : {}),
    name: entry.name,
    inputSchema: (isObject(entry.inputSchema) ? entry.inputSchema : { type: "object" }) as Tool["inputSchema"],
    ...(isObject(entry.outputSchema) ? { outputSchema: entry.outputSchema as Tool["outputSchema"] } : {}),
  } as Tool;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The MCP schema check of one tool. zod walks a schema recursively, so a tool whose input schema nests about 600
 * levels or more overflows the stack: such a tool is then kept as given, like any other that breaks the schema
 * (the OpenAPI translation and the validator bound their own depth), instead of failing the whole list.
 */
function checkTool(raw: unknown): { success: true; data: Tool } | { success: false } {
  try {
    return ToolSchema.safeParse(raw);
  } catch (error) {
    if (error instanceof RangeError) return { success: false };
    throw error;
  }
}
