import type { IncomingMessage, ServerResponse } from "node:http";
import accepts from "accepts";
import { checkArguments, RAW_RESULT_MEDIA_TYPE, type Catalog } from "../catalog/index.js";
import { BadRequestError, InvalidArgumentsError, ToolExecutionError, UnknownToolError } from "../errors/index.js";
import type { AllowList, ImageResults } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { serverLabel, type Metrics } from "../telemetry/metrics.js";
import type { CallOptions, ForwardedSessions, UpstreamConnection } from "../upstream/index.js";
import { sendError } from "./error-handler.js";
import { readJsonBody } from "./json-body.js";
import { sendUpstreamBytes } from "./upstream-bytes.js";
import { writeJson } from "./write-json.js";
import { errorText, resultBody, soleImage } from "./result-body.js";
import { callAsTask, prefersAsync } from "./task-call.js";
import { EVENT_STREAM_MEDIA_TYPE, openToolStream, type ToolStream } from "./tool-stream.js";

/** A mounted upstream as the HTTP layer sees it. */
export interface ToolTarget {
  /** "" at the root (single-server mode), else the server's name. */
  readonly name: string;
  readonly catalog: Catalog | undefined;
  readonly connection: UpstreamConnection;
  /** Set when the server forwards callers' identity: calls go to the caller's own upstream session. */
  readonly forwarding?: ForwardedSessions | undefined;
  /** Key for this server's routes; falls back to the global --api-key. */
  readonly apiKey: string | undefined;
  /** Who may call its tools (verified JWT identities); absent: any authenticated caller. */
  readonly allow?: AllowList;
  /** How a result that is one image is answered (connection_settings.image_results); absent: data-url. */
  readonly imageResults?: ImageResults;
}

/** Header a caller may send to shorten (never extend) the tool timeout, in seconds. */
export const TOOL_TIMEOUT_HEADER = "x-tool-timeout";

/** Serves one tool call that the pipeline (pipeline.ts) has let through: host, CORS, origin and key are checked. */
export type ToolCaller = (req: IncomingMessage, res: ServerResponse, target: ToolTarget, toolName: string) => void;

/**
 * POST /{tool} on plain node:http, ahead of express: this is the hot path,
 * and express's routing and request decoration cost more than the rest of a
 * call. A tool call: body (size-limited JSON), validation against the tool's
 * schema, the call (cancelled if the caller goes away), and the answer:
 * mcpo's shape by default, the whole MCP result to callers that prefer
 * RAW_RESULT_MEDIA_TYPE. Errors go to sendError, like express's.
 */
export function createToolCaller(options: {
  maxBodyBytes: number;
  logger: Logger;
  rootPath?: string;
  /** Counts calls refused for their arguments (the others are counted by the connection). */
  metrics?: Metrics;
}): ToolCaller {
  const { maxBodyBytes, logger, metrics } = options;
  return (req, res, target, toolName) => {
    callTool(req, res, target, toolName, maxBodyBytes, options.rootPath ?? "").catch((error: unknown) => {
      // Refused before it went upstream for its input: the connection never saw it, so it is counted here.
      if (metrics && error instanceof InvalidArgumentsError) {
        metrics.badToolInput(serverLabel(target.name), toolName);
      }
      sendError(req, res, error, logger);
    });
  };
}

async function callTool(
  req: IncomingMessage,
  res: ServerResponse,
  target: ToolTarget,
  toolName: string,
  maxBodyBytes: number,
  rootPath: string,
): Promise<void> {
  // Watched from the start: a caller gone while its body is still arriving cancels the call too.
  const caller = watchCaller(res);
  // Forwarding: the caller's identity, read once (values never logged); nothing is done here without `forward`.
  const forwarding = target.forwarding;
  const identity = forwarding?.identityOf(req.headers);
  let route = target.catalog?.byName.get(toolName);
  if (!route && forwarding && identity && target.catalog === undefined && target.connection.wantsCallerCredentials) {
    // The upstream lists its tools only to callers with credentials: this caller's session lists them first.
    await forwarding.listTools(identity);
    route = (target.catalog as Catalog | undefined)?.byName.get(toolName); // listed meanwhile (a tools event)
  }
  if (!route) {
    // (With no tool list yet, the answer is why: 503 while the upstream is not there, not 404.)
    if (!forwarding || target.catalog === undefined) target.connection.assertReady(`tool "${toolName}"`);
    throw new UnknownToolError(`No tool named "${toolName}" on ${target.connection.who}`);
  }
  const requested = requestedTimeoutMs(req.headers[TOOL_TIMEOUT_HEADER]);
  const { args, problems } = checkArguments(route, await readJsonBody(req, maxBodyBytes));
  if (problems) throw new InvalidArgumentsError(`Invalid arguments for tool "${toolName}"`, problems);
  if (caller.signal.aborted) return; // nobody is left to answer

  const callOptions: CallOptions = {
    controller: caller,
    ...(requested === undefined ? {} : { timeoutMs: Math.min(requested, target.connection.toolTimeoutMs) }),
  };
  const { taskSupport } = route;
  // A task when the tool requires it, or allows it and the caller prefers respond-async (task-call.ts); tools
  // without task support never read Prefer.
  const handOut = taskSupport !== undefined && prefersAsync(req.headers.prefer);
  const asTask = taskSupport === "required" || (taskSupport === "optional" && handOut);
  // Server-Sent Events only for a caller that names them (cheap check first): see tool-stream.ts. A task handed
  // out with 202 (respond-async) is answered in JSON whatever the Accept.
  const stream =
    req.headers.accept?.includes(EVENT_STREAM_MEDIA_TYPE) && !handOut ? streamFor(req, res, callOptions) : undefined;
  const result = asTask
    ? await callAsTask(req, res, {
        target,
        route: { ...route, taskSupport },
        args: args as Record<string, unknown>,
        identity,
        callOptions,
        tasksPath: `${rootPath}${mountPathOf(req.url ?? "")}/tasks`,
        ...(stream ? { onStatus: (snapshot) => stream.task(snapshot) } : {}),
      })
    : forwarding && identity
      ? await forwarding.callTool(identity, route.toolName, args as Record<string, unknown>, callOptions)
      : await target.connection.callTool(route.toolName, args as Record<string, unknown>, callOptions);
  if (res.writableEnded || !result) return; // answered meanwhile: shutdown's 503 when the grace period ran out
  if (stream) {
    if (result.isError) throw new ToolExecutionError(errorText(result)); // an `error` event (sendError)
    stream.result(resultBody(result, route.outputSchema !== undefined));
    return;
  }
  // Negotiate only when the caller names the raw media type at all: parsing Accept costs on every call.
  if (
    req.headers.accept?.includes(RAW_RESULT_MEDIA_TYPE) &&
    accepts(req).type(["application/json", RAW_RESULT_MEDIA_TYPE]) === RAW_RESULT_MEDIA_TYPE
  ) {
    // isError included, with 200: the caller asked for the result as MCP gives it and reads the flag itself.
    sendJson(res, result, RAW_RESULT_MEDIA_TYPE);
    return;
  }
  if (result.isError) throw new ToolExecutionError(errorText(result));
  if (route.outputSchema === undefined) {
    const image = soleImage(result);
    if (image && wantsImage(req, image.mimeType, target.imageResults)) {
      return sendUpstreamBytes(res, image.mimeType, Buffer.from(image.data, "base64"));
    }
  }
  sendJson(res, resultBody(result, route.outputSchema !== undefined), "application/json");
}

/**
 * Whether a result that is one image goes out as the image's bytes: with `image_results: binary` unless the caller
 * prefers JSON, else only when the caller's Accept prefers the image's type (or `image/*`) over JSON.
 */
function wantsImage(req: IncomingMessage, mimeType: string, setting: ImageResults | undefined): boolean {
  const accept = req.headers.accept;
  if (setting !== "binary" && !accept?.includes("image/")) return false;
  // With no Accept, or `*/*`, the preferred type is the first offered: the setting decides which that is.
  const offered = setting === "binary" ? [mimeType, "application/json"] : ["application/json", mimeType];
  return accepts(req).type(offered) === mimeType;
}

/**
 * The stream for a caller that prefers `text/event-stream` to JSON (`application/json, text/event-stream;q=0.1`
 * stays JSON), wired into the call: it starts when the call goes upstream, so a failure before that (503 with the
 * upstream down, 504 in the queue) is still a plain HTTP error.
 */
function streamFor(req: IncomingMessage, res: ServerResponse, callOptions: CallOptions): ToolStream | undefined {
  if (accepts(req).type(["application/json", EVENT_STREAM_MEDIA_TYPE]) !== EVENT_STREAM_MEDIA_TYPE) return undefined;
  const stream = openToolStream(res);
  callOptions.onSent = () => stream.start();
  callOptions.onProgress = (progress) => stream.progress(progress);
  callOptions.onLog = (log) => stream.log(log);
  return stream;
}

/** A controller aborted when the caller goes away before its answer is written: the call is then cancelled upstream. */
export function watchCaller(res: ServerResponse): AbortController {
  const caller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) caller.abort();
  });
  return caller;
}

/** "/echo", "/echo/", "/echo?x" → "echo"; undefined when the path names no single tool. */
export function toolNameOf(subUrl: string): string | undefined {
  const query = subUrl.indexOf("?");
  let path = query === -1 ? subUrl : subUrl.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const name = path.slice(1);
  if (!name || name.includes("/")) return undefined;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** "/github/echo/?x" → "/github": the mount's path below the root path, from a tool call's URL. */
function mountPathOf(url: string): string {
  const query = url.indexOf("?");
  let path = query === -1 ? url : url.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path.slice(0, path.lastIndexOf("/"));
}

/** 200 with a JSON body of media type `type`, varying by Accept (and Origin, when CORS set it). */
function sendJson(res: ServerResponse, body: unknown, type: string): void {
  const vary = res.getHeader("Vary");
  writeJson(res, 200, body, {
    "Content-Type": `${type}; charset=utf-8`,
    Vary: vary ? `${String(vary)}, Accept` : "Accept",
  });
}

/** The X-Tool-Timeout a caller sent, in ms; 400 for one that is not a positive number. */
export function requestedTimeoutMs(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new BadRequestError(
      `${TOOL_TIMEOUT_HEADER} must be a positive number of seconds, got ${JSON.stringify(header)}`,
    );
  }
  return Math.round(seconds * 1000);
}
