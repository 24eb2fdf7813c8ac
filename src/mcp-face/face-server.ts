import {
  LOG_LEVEL_META_KEY,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type InputRequiredResult,
  type LoggingLevel,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";
import { ItemNotFoundError } from "../errors/index.js";
import {
  OPERATIONS,
  type CallerIdentity,
  type CallOptions,
  type IncomingHeaders,
  type RequestSender,
} from "../upstream/index.js";
import { toMcpError } from "./errors.js";
import type { InputRelay, RoundHooks } from "./input-relay.js";
import type { ResourceWatchers } from "./subscriptions.js";
import { capabilitiesOf, faceName, resolveName, type FaceScope, type FaceSource } from "./scope.js";

/**
 * An MCP server (the SDK's low-level Server: we own dispatch) whose every request is passed to the upstream layer:
 * a tool call through `UpstreamConnection.callTool`, anything else through `request`, so the MCP face has the REST
 * face's timeouts, limits, reconnect waits and error meanings. What the caller asked for is passed on as it came:
 * names (prefixed by server in the aggregated endpoint), schemas, results, and the upstream's own errors.
 *
 * A tool call, a prompt get or a resource read whose upstream asks the client for something (elicitation,
 * sampling, roots) is passed through the endpoint's InputRelay, which asks this call's MCP client.
 *
 * Built once per 2025 session, and once per request on 2026-07-28 (the SDK's per-request serving): building is a
 * few closures. It is an McpServer only so that the SDK's 2026-07-28 entry checks a tool call's `Mcp-Param-*`
 * headers against the tool's `x-mcp-header` declarations (it does so for an McpServer's tools, asking
 * `toolInputSchemaJson`): we answer that with the upstream's schema and serve every method on the low-level Server.
 */
export function buildFaceServer(scope: FaceScope, relay: InputRelay, watchers: ResourceWatchers): McpServer {
  const info = scope.info();
  const mcp = new McpServer(
    { name: info.name, version: info.version, ...(info.title ? { title: info.title } : {}) },
    info.instructions ? { instructions: info.instructions } : {},
  );
  mcp.toolInputSchemaJson = (name) => {
    const hit = resolveName(scope, name);
    return hit?.source.exposedTools.find((tool) => tool.name === hit.name)?.inputSchema;
  };
  const server = mcp.server;
  const capabilities = capabilitiesOf(scope);
  server.registerCapabilities(capabilities);
  /** A request whose upstream may ask this client for input, relayed (see InputRelay). */
  const relayed = <T>(
    ctx: ServerContext,
    source: FaceSource,
    go: (hooks: RoundHooks) => Promise<T>,
  ): Promise<T | InputRequiredResult> =>
    relay.round(ctx, server.getClientCapabilities(), source.connection.toolTimeoutMs, go).catch((error: unknown) => {
      throw toMcpError(error, ctx.mcpReq.envelope !== undefined);
    });

  server.setRequestHandler("tools/list", () => ({ tools: listTools(scope) }));

  server.setRequestHandler("tools/call", async (request, ctx) => {
    const { name, arguments: args } = request.params;
    const hit = resolveName(scope, name);
    const tool = hit && (hit.source.exposedTools.find((candidate) => candidate.name === hit.name) ?? unlisted(hit));
    if (!hit || !tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    return relayed(ctx, hit.source, (hooks) => callTool(hooks, hit.source, tool, args ?? {}));
  });

  if (capabilities.resources) {
    server.setRequestHandler("resources/list", (request, ctx) =>
      paged(scope, request.params?.cursor, "resources", (source, cursor) =>
        send(ctx, source, "resources/list", OPERATIONS.listResources(cursor)),
      ),
    );
    server.setRequestHandler("resources/templates/list", (request, ctx) =>
      paged(scope, request.params?.cursor, "resourceTemplates", (source, cursor) =>
        send(ctx, source, "resources/templates/list", OPERATIONS.listResourceTemplates(cursor)),
      ),
    );
    server.setRequestHandler("resources/read", (message, ctx) => {
      const { uri } = message.params;
      return byUri(ctx, scope, uri, (source) =>
        relayed(ctx, source, (hooks) => request(hooks, source, `resource "${uri}"`, OPERATIONS.readResource(uri))),
      );
    });
  }
  if (capabilities.resources?.subscribe) {
    // 2025 sessions only (2026-07-28 subscribes on subscriptions/listen, which the SDK's entry serves).
    const session = (ctx: ServerContext): string => {
      if (ctx.sessionId === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidRequest, "No session");
      return ctx.sessionId;
    };
    server.setRequestHandler("resources/subscribe", (message, ctx) =>
      byUri(ctx, scope, message.params.uri, (source) =>
        run(ctx, (options) => watchers.subscribe(session(ctx), source, message.params.uri, options)),
      ).then(() => ({})),
    );
    server.setRequestHandler("resources/unsubscribe", (message, ctx) =>
      run(ctx, (options) => watchers.unsubscribe(session(ctx), message.params.uri, options)).then(() => ({})),
    );
  }
  if (capabilities.prompts) {
    server.setRequestHandler("prompts/list", async (request, ctx) => {
      const page = await paged(scope, request.params?.cursor, "prompts", (source, cursor) =>
        send(ctx, source, "prompts/list", OPERATIONS.listPrompts(cursor)).then((result) => ({
          ...result,
          prompts: result.prompts.map((prompt) => ({ ...prompt, name: faceName(scope, source, prompt.name) })),
        })),
      );
      return page;
    });
    server.setRequestHandler("prompts/get", (message, ctx) => {
      const hit = resolveName(scope, message.params.name);
      if (!hit) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${message.params.name}`);
      const params = { ...message.params, name: hit.name };
      return relayed(ctx, hit.source, (hooks) =>
        request(hooks, hit.source, `prompt "${hit.name}"`, OPERATIONS.getWholePrompt(params)),
      );
    });
  }
  if (capabilities.completions) {
    server.setRequestHandler("completion/complete", (request, ctx) => {
      const { ref } = request.params;
      if (ref.type === "ref/prompt") {
        const hit = resolveName(scope, ref.name);
        if (!hit) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
        const params = { ...request.params, ref: { ...ref, name: hit.name } };
        return send(ctx, hit.source, "completion/complete", OPERATIONS.complete(params));
      }
      return byUri(ctx, scope, ref.uri, (source) =>
        send(ctx, source, "completion/complete", OPERATIONS.complete(request.params)),
      );
    });
  }
  return mcp;
}

/**
 * A tool named before its server's tools were ever listed (never connected yet): sent on as REST sends any name
 * then, so that the call waits for the connection and fails as REST's does (503 upstream_unavailable), not as a
 * tool that does not exist. Once listed, an unknown name is unknown.
 */
function unlisted(hit: { source: FaceSource; name: string }): Tool | undefined {
  const { source, name } = hit;
  if (source.exposedTools.length > 0 || source.connection.state === "ready") return undefined;
  return { name, inputSchema: { type: "object" } };
}

/** Every source's exposed tools under their face names. */
function listTools(scope: FaceScope): Tool[] {
  if (!scope.prefixed) return [...(scope.sources()[0]?.exposedTools ?? [])];
  return scope
    .sources()
    .flatMap((source) => source.exposedTools.map((tool) => ({ ...tool, name: faceName(scope, source, tool.name) })));
}

/** The options of one upstream request on behalf of one MCP request: cancelled when the caller cancels it. */
async function run<T>(ctx: ServerContext, go: (options: CallOptions) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const { signal } = ctx.mcpReq;
  const abort = (): void => controller.abort();
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  try {
    return await go({ controller });
  } catch (error) {
    throw toMcpError(error, ctx.mcpReq.envelope !== undefined);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

/**
 * A tool call, with its progress and log messages passed to the caller who asked for them (to the round in progress:
 * see RoundHooks), and never after the result: a notification still being sent when the call ends is waited for.
 */
async function callTool(
  hooks: RoundHooks,
  source: FaceSource,
  tool: Tool,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const { ctx } = hooks;
  const sending: Promise<unknown>[] = [];
  const options: CallOptions = { controller: hooks.controller, onServerRequest: hooks.onServerRequest };
  const progressToken = ctx().mcpReq._meta?.progressToken;
  if (progressToken !== undefined) {
    options.onProgress = (progress) =>
      sending.push(
        ctx()
          .mcpReq.notify({ method: "notifications/progress", params: { ...progress, progressToken } })
          .catch(() => undefined),
      );
  }
  options.onLog = (log) =>
    sending.push(
      ctx()
        .mcpReq.log(log.level, log.data, log.logger)
        .catch(() => undefined),
    );
  // A 2026-07-28 caller names the level it wants with each request; a 2025 caller's session level (logging/setLevel)
  // is applied by the SDK as we pass a message on, so everything is asked for.
  // (The SDK types the envelope as `{}`: its keys are read as what the 2026 schema says they are.)
  const envelope = ctx().mcpReq.envelope as { [LOG_LEVEL_META_KEY]?: LoggingLevel } | undefined;
  const logLevel = envelope ? envelope[LOG_LEVEL_META_KEY] : "debug";
  if (logLevel !== undefined) options.logLevel = logLevel;
  const identity = identityOf(ctx(), source);
  let result: CallToolResult;
  if (tool.execution?.taskSupport === "required") {
    // The face declares no tasks: a tool that runs only as a task is run to its end, as REST's blocking call is.
    const { blocking } = source.connection.toolTask(tool.name, args, { required: true });
    result = await upstreamRequest(ctx(), source, `tool "${tool.name}"`, blocking, options);
  } else {
    result = await (identity
      ? source.forwarding!.callTool(identity, tool.name, args, options)
      : source.connection.callTool(tool.name, args, options));
  }
  if (sending.length > 0) await Promise.all(sending);
  return result;
}

/** A relayed request other than a tool call (a prompt, a resource read): see callTool. */
function request<T>(hooks: RoundHooks, source: FaceSource, operation: string, sender: RequestSender<T>): Promise<T> {
  const options: CallOptions = { controller: hooks.controller, onServerRequest: hooks.onServerRequest };
  return upstreamRequest(hooks.ctx(), source, operation, sender, options);
}

/** Any other request (a list, a completion), cancelled with its MCP request. */
function send<T>(ctx: ServerContext, source: FaceSource, operation: string, sender: RequestSender<T>): Promise<T> {
  return run(ctx, (options) => upstreamRequest(ctx, source, operation, sender, options));
}

/** A request on the shared connection, or on the caller's own session for a forwarding server. */
function upstreamRequest<T>(
  ctx: ServerContext,
  source: FaceSource,
  operation: string,
  sender: RequestSender<T>,
  options: CallOptions,
): Promise<T> {
  const identity = identityOf(ctx, source);
  return identity
    ? source.forwarding!.request(identity, operation, sender, options)
    : source.connection.request(operation, sender, options);
}

/** The caller's forwarded identity (forwarding servers only), read from the HTTP request that carried this one. */
function identityOf(ctx: ServerContext, source: FaceSource): CallerIdentity | undefined {
  if (!source.forwarding) return undefined;
  const headers: Record<string, string> = {};
  ctx.http?.req?.headers.forEach((value, key) => (headers[key] = value));
  return source.forwarding.identityOf(headers as IncomingHeaders);
}

/**
 * One page of a list over every source that offers it: the cursor says which source and that source's own cursor
 * (`<index>:<upstream cursor>`, base64url), so each page is one upstream page, and the sources follow each other.
 */
async function paged<K extends string, P extends { [key in K]: unknown[] } & { nextCursor?: string }>(
  scope: FaceScope,
  cursor: string | undefined,
  key: K,
  list: (source: FaceSource, cursor: string | undefined) => Promise<P>,
): Promise<P> {
  const sources = scope.sources().filter((source) => offers(source, key));
  let index = 0;
  let upstreamCursor: string | undefined;
  if (cursor !== undefined) {
    const decoded = decodeCursor(cursor);
    if (!decoded) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "Invalid cursor");
    [index, upstreamCursor] = decoded;
  }
  const source = sources[index];
  if (!source) return { [key]: [] } as unknown as P;
  const page = await list(source, upstreamCursor);
  const next =
    page.nextCursor !== undefined
      ? encodeCursor(index, page.nextCursor)
      : index + 1 < sources.length
        ? encodeCursor(index + 1, undefined)
        : undefined;
  const { nextCursor: _dropped, ...rest } = page;
  return { ...rest, ...(next === undefined ? {} : { nextCursor: next }) } as unknown as P;
}

function offers(source: FaceSource, key: string): boolean {
  const capabilities = source.connection.serverCapabilities;
  return key === "prompts" ? capabilities?.prompts !== undefined : capabilities?.resources !== undefined;
}

function encodeCursor(index: number, cursor: string | undefined): string {
  return Buffer.from(JSON.stringify(cursor === undefined ? [index] : [index, cursor])).toString("base64url");
}

function decodeCursor(cursor: string): [number, string | undefined] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || !Number.isInteger(value[0]) || (value[0] as number) < 0) return undefined;
    if (value[1] !== undefined && typeof value[1] !== "string") return undefined;
    return [value[0] as number, value[1] as string | undefined];
  } catch {
    return undefined;
  }
}

/**
 * A request about a resource URI: the one source in a single endpoint; in the aggregated one, the source that
 * listed the URI (or a template it matches), else each source that offers resources in turn until one knows it.
 */
async function byUri<T>(
  ctx: ServerContext,
  scope: FaceScope,
  uri: string,
  go: (source: FaceSource) => Promise<T>,
): Promise<T> {
  const sources = scope.sources().filter((source) => offers(source, "resources"));
  if (!scope.prefixed || sources.length <= 1) {
    if (!sources[0]) throw toMcpError(new ItemNotFoundError(`No resource "${uri}"`), ctx.mcpReq.envelope !== undefined);
    return go(sources[0]);
  }
  const owner = sources.find((source) => source.connection.offerings.resourceList.some((item) => item.uri === uri));
  const order = owner ? [owner] : sources;
  let last: unknown;
  for (const source of order) {
    try {
      return await go(source);
    } catch (error) {
      last = error;
      const notFound =
        error instanceof ProtocolError &&
        (error.code === -32002 || (error.code === ProtocolErrorCode.InvalidParams && /not found/i.test(error.message)));
      if (!notFound) throw error;
    }
  }
  throw last;
}
