import {
  Client as V2Client,
  LOG_LEVEL_META_KEY,
  StreamableHTTPClientTransport as V2Transport,
  type ClientOptions,
} from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

type Json = Record<string, any>;

/** The real MCP clients a remote user runs: the v2 SDK in either era, and the v1 SDK (2025 only). */
export const CLIENT_KINDS = ["v2 2025", "v2 2026-07-28", "v1"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface CallOptions {
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** One connected client, the same few calls whatever the SDK: what the tests need of each. */
export interface McpClient {
  readonly kind: ClientKind;
  /** "legacy" (2025, a session) or "modern" (2026-07-28, per request). */
  readonly era: "legacy" | "modern";
  readonly capabilities: Json | undefined;
  /** The session id the server gave (2025 era), else undefined. */
  readonly sessionId: string | undefined;
  listTools(): Promise<Json[]>;
  callTool(name: string, args: Json, options?: CallOptions): Promise<Json>;
  listResources(): Promise<Json>;
  listResourceTemplates(): Promise<Json>;
  readResource(uri: string): Promise<Json>;
  listPrompts(): Promise<Json>;
  getPrompt(name: string, args?: Record<string, string>): Promise<Json>;
  complete(params: Json): Promise<Json>;
  /** Every notifications/message the client received, in order. */
  readonly logs: Json[];
  /** Counts of list_changed notifications received, by method. */
  readonly changed: Record<string, number>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  headers?: Record<string, string>;
  /** Declare elicitation (form) and answer every request with this. */
  elicit?: (params: Json) => Json;
}

const LIST_CHANGED = [
  "notifications/tools/list_changed",
  "notifications/prompts/list_changed",
  "notifications/resources/list_changed",
] as const;

/** Connects one kind of real client to an MCP endpoint over Streamable HTTP. */
export async function connectClient(kind: ClientKind, url: string, options: ConnectOptions = {}): Promise<McpClient> {
  const requestInit = options.headers ? { headers: options.headers } : undefined;
  const logs: Json[] = [];
  const changed: Record<string, number> = {};
  if (kind === "v1") {
    const client = new V1Client(
      { name: "mcpo-ts-test-v1", version: "0" },
      { capabilities: options.elicit ? { elicitation: { form: {} } } : {} },
    );
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    client.fallbackNotificationHandler = async (n) => {
      changed[n.method] = (changed[n.method] ?? 0) + 1;
    };
    if (options.elicit) {
      const answer = options.elicit;
      client.setRequestHandler(ElicitRequestSchema, (request) => answer(request.params) as never);
    }
    const transport = new V1Transport(new URL(url), requestInit ? { requestInit } : {});
    await client.connect(transport);
    const plain = (value: unknown): Json => value as Json;
    return {
      kind,
      era: "legacy",
      capabilities: client.getServerCapabilities(),
      sessionId: transport.sessionId,
      listTools: async () => (await client.listTools()).tools as Json[],
      callTool: async (name, args, o = {}) => plain(await client.callTool({ name, arguments: args }, undefined, o)),
      listResources: async () => plain(await client.listResources()),
      listResourceTemplates: async () => plain(await client.listResourceTemplates()),
      readResource: async (uri) => plain(await client.readResource({ uri })),
      listPrompts: async () => plain(await client.listPrompts()),
      getPrompt: async (name, args) => plain(await client.getPrompt({ name, ...(args ? { arguments: args } : {}) })),
      complete: async (params) => plain(await client.complete(params as never)),
      logs,
      changed,
      close: () => client.close(),
    };
  }
  const clientOptions: ClientOptions = {
    versionNegotiation: kind === "v2 2025" ? { mode: "legacy" } : { mode: "auto", probe: { timeoutMs: 10_000 } },
    ...(options.elicit ? { capabilities: { elicitation: { form: {} } } } : {}),
  };
  const client = new V2Client({ name: "mcpo-ts-test-v2", version: "0" }, clientOptions);
  client.setNotificationHandler("notifications/message", (n) => void logs.push(n.params));
  for (const method of LIST_CHANGED) {
    client.setNotificationHandler(method, () => void (changed[method] = (changed[method] ?? 0) + 1));
  }
  if (options.elicit) {
    const answer = options.elicit;
    client.setRequestHandler("elicitation/create", (request) => answer(request.params) as never);
  }
  const transport = new V2Transport(new URL(url), requestInit ? { requestInit } : {});
  await client.connect(transport);
  const plain = (value: unknown): Json => value as Json;
  const modern = client.getProtocolEra() === "modern";
  return {
    kind,
    era: modern ? "modern" : "legacy",
    capabilities: client.getServerCapabilities(),
    sessionId: transport.sessionId,
    listTools: async () => (await client.listTools()).tools as Json[],
    // 2026-07-28 has no logging/setLevel: a request asks for its log messages in its own _meta (absent = none).
    callTool: async (name, args, o = {}) =>
      plain(
        await client.callTool(
          { name, arguments: args, ...(modern ? { _meta: { [LOG_LEVEL_META_KEY]: "debug" } } : {}) },
          o,
        ),
      ),
    listResources: async () => plain(await client.listResources()),
    listResourceTemplates: async () => plain(await client.listResourceTemplates()),
    readResource: async (uri) => plain(await client.readResource({ uri })),
    listPrompts: async () => plain(await client.listPrompts()),
    getPrompt: async (name, args) => plain(await client.getPrompt({ name, ...(args ? { arguments: args } : {}) })),
    complete: async (params) => plain(await client.complete(params as never)),
    logs,
    changed,
    close: () => client.close(),
  };
}

/**
 * A result without what the 2026-07-28 envelope adds (`_meta` with serverInfo, `ttlMs`, `cacheScope`,
 * `resultType`), so that answers of both eras compare with the upstream's own.
 */
export function bare(result: Json): Json {
  const { _meta: _m, ttlMs: _t, cacheScope: _c, resultType: _r, ...rest } = result;
  return rest;
}

/** The JSON-RPC error a call was rejected with: its code, message and data (both SDKs keep them). */
export async function rejection(call: Promise<unknown>): Promise<{ code: unknown; message: string; data: Json }> {
  try {
    await call;
  } catch (error: unknown) {
    const { code, message, data } = error as { code?: unknown; message?: string; data?: Json };
    return { code, message: String(message), data: data ?? {} };
  }
  throw new Error("the call succeeded; an error was expected");
}
