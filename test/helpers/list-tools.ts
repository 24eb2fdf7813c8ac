import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";

/** Every tool a stdio server lists (all pages), asked directly with the SDK: the truth the proxy must match. */
export async function listToolsDirectly(command: readonly string[], env: Record<string, string> = {}): Promise<Tool[]> {
  const client = new Client({ name: "mcpo-ts-test-direct", version: "0" });
  await client.connect(
    new StdioClientTransport({
      command: command[0]!,
      args: command.slice(1),
      env: { ...getDefaultEnvironment(), ...env },
      stderr: "ignore",
    }),
  );
  try {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await client.close();
  }
}
