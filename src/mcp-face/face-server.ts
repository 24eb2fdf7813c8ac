import {
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type CallToolResult,
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
import { capabilitiesOf, faceName, resolveName, type FaceScope, type FaceSource } from "./scope.js";

/**
 * An MCP server (the SDK's low-level Server: we own dispatch) whose every request is passed to the upstream layer:
 * a tool call through `UpstreamConnection.callTool`, anything else through `request`, so the MCP face has the REST
 * face's timeouts, limits, reconnect waits and error meanings. What the caller asked for is passed on as it came:
 * names (prefixed by server in the aggregated endpoint), schemas, results, and the upstream's own errors.
 *
 * Built once per 2025 session, and once per request on 2026-07-28 (the SDK's per-request serving): building is a
 * few closures.
 */
export function buildFaceServer(scope: FaceScope): Server {
  const info = scope.info();
  const server = new Server(
    { name: info.name, version: info.version, ...(info.title ? { title: info.title } : {}) },
    { capabilities: capabilitiesOf(scope), ...(info.instructions ? { instructions: info.instructions } : {}) },
  );

  server.setRequestHandler("tools/list", () => ({ tools: listTools(scope) }));

  server.setRequestHandler("tools/call", async (request, ctx) => {
    const { name, arguments: args } = request.params;
    const hit = resolveName(scope, name);
    const tool = hit?.source.exposedTools.find((candidate) => candidate.name === hit.name);
    if (!hit || !tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    return run(ctx, (options) => callTool(ctx, hit.source, tool, args ?? {}, options));
  });

  const capabilities = capabilitiesOf(scope);
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
    server.setRequestHandler("resources/read", (request, ctx) => {
      const { uri } = request.params;
      return byUri(ctx, scope, uri, (source) => send(ctx, source, `resource "${uri}"`, OPERATIONS.readResource(uri)));
    });
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
    server.setRequestHandler("prompts/get", (request, ctx) => {
      const hit = resolveName(scope, request.params.name);
      if (!hit) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
      const params = { ...request.params, name: hit.name };
      return send(ctx, hit.source, `prompt "${hit.name}"`, OPERATIONS.getWholePrompt(params));
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
  return server;
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

/** A tool call, with its progress and log messages passed to the caller who asked for them. */
function callTool(
  ctx: ServerContext,
  source: FaceSource,
  tool: Tool,
  args: Record<string, unknown>,
  options: CallOptions,
): Promise<CallToolResult> {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  if (progressToken !== undefined) {
    options.onProgress = (progress) =>
      void ctx.mcpReq
        .notify({ method: "notifications/progress", params: { ...progress, progressToken } })
        .catch(() => undefined);
  }
  options.onLog = (log) => void ctx.mcpReq.log(log.level, log.data, log.logger).catch(() => undefined);
  const identity = identityOf(ctx, source);
  if (tool.execution?.taskSupport === "required") {
    // The face declares no tasks: a tool that runs only as a task is run to its end, as REST's blocking call is.
    const { blocking } = source.connection.toolTask(tool.name, args, { required: true });
    return identity
      ? source.forwarding!.request(identity, `tool "${tool.name}"`, blocking, options)
      : source.connection.request(`tool "${tool.name}"`, blocking, options);
  }
  return identity
    ? source.forwarding!.callTool(identity, tool.name, args, options)
    : source.connection.callTool(tool.name, args, options);
}

/** Any other request, on the caller's own session for a forwarding server. */
function send<T>(ctx: ServerContext, source: FaceSource, operation: string, sender: RequestSender<T>): Promise<T> {
  return run(ctx, (options) => {
    const identity = identityOf(ctx, source);
    return identity
      ? source.forwarding!.request(identity, operation, sender, options)
      : source.connection.request(operation, sender, options);
  });
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
