import type { Tool } from "@modelcontextprotocol/client";

export interface ToolFilterOptions {
  /** Allow-list: only these, when given. */
  readonly enabled?: readonly string[];
  readonly disabled: readonly string[];
}

/** The tools a server's `enabledTools` / `disabledTools` let through, and the names they list that do not exist. */
export function filterTools(
  tools: readonly Tool[],
  filter: ToolFilterOptions,
): { tools: Tool[]; unknownNames: string[] } {
  const names = new Set(tools.map((tool) => tool.name));
  const enabled = filter.enabled === undefined ? undefined : new Set(filter.enabled);
  const disabled = new Set(filter.disabled);
  return {
    tools: tools.filter((tool) => (enabled === undefined || enabled.has(tool.name)) && !disabled.has(tool.name)),
    unknownNames: [...(filter.enabled ?? []), ...filter.disabled].filter((name) => !names.has(name)),
  };
}
