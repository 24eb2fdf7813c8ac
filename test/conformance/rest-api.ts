import type { Proxy } from "../helpers/proxy.js";

/** What a scenario may do: the proxy's REST API and nothing else (no MCP traffic of our own). */
export interface RestApi {
  /** POST /{tool} with `args` as the body; the answer's body when the status is 200, else throws. */
  call(tool: string, args: unknown): Promise<unknown>;
  /** POST /{tool} with `args`; the status, whatever it is (for calls that must be refused). */
  status(tool: string, args: unknown): Promise<number>;
  /** GET /openapi.json. */
  document(): Promise<OpenApiDocument>;
  /** GET /tools: the served tools as the upstream defined them. */
  definitions(): Promise<{ name: string; inputSchema: unknown }[]>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>>;
  components?: { schemas?: Record<string, unknown> };
}

export function restApi(proxy: Proxy): RestApi {
  const path = (tool: string): string => `/${encodeURIComponent(tool)}`;
  return {
    async call(tool, args) {
      const answer = await proxy.post(path(tool), args);
      if (answer.status !== 200) throw new Error(`POST ${path(tool)} answered ${answer.status}: ${answer.text}`);
      return answer.body;
    },
    async status(tool, args) {
      return (await proxy.post(path(tool), args)).status;
    },
    async document() {
      const answer = await proxy.get("/openapi.json");
      if (answer.status !== 200) throw new Error(`GET /openapi.json answered ${answer.status}: ${answer.text}`);
      return answer.body as OpenApiDocument;
    },
    async definitions() {
      const answer = await proxy.get("/tools");
      if (answer.status !== 200) throw new Error(`GET /tools answered ${answer.status}: ${answer.text}`);
      return (answer.body as { tools: { name: string; inputSchema: unknown }[] }).tools;
    },
  };
}

/** True when the document has a route for the tool. */
export function hasRoute(doc: OpenApiDocument, tool: string): boolean {
  return doc.paths[`/${encodeURIComponent(tool)}`]?.post !== undefined;
}
