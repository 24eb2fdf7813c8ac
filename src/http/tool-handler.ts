import type { RequestHandler } from "express";
import { RAW_RESULT_MEDIA_TYPE, type Catalog } from "../catalog/index.js";
import { BadRequestError, InvalidArgumentsError, ToolExecutionError, UnknownToolError } from "../errors/index.js";
import type { UpstreamConnection } from "../upstream/index.js";
import { errorText, resultBody } from "./result-body.js";

/** A mounted upstream as the HTTP layer sees it. */
export interface ToolTarget {
  /** "" at the root (single-server mode), else the server's name. */
  readonly name: string;
  readonly catalog: Catalog | undefined;
  readonly connection: UpstreamConnection;
}

/** Finds the server a path belongs to and the (decoded) tool name in it. */
export type ToolLookup = (path: string) => { target: ToolTarget; toolName: string } | undefined;

/** Header a caller may send to shorten (never extend) the tool timeout, in seconds. */
export const TOOL_TIMEOUT_HEADER = "x-tool-timeout";

/**
 * POST /{tool}: validate the body against the tool's schema, call the tool
 * (cancelled if the caller goes away), and answer its result: mcpo's shape by
 * default, the whole MCP result to callers that prefer RAW_RESULT_MEDIA_TYPE.
 * Failures are thrown as ProxyErrors; the error handler picks the status.
 */
export function createToolHandler(lookup: ToolLookup): RequestHandler {
  return async function callTool(req, res, next) {
    const found = lookup(req.path);
    if (!found) return next();
    const { target, toolName } = found;
    const route = target.catalog?.byName.get(toolName);
    if (!route) {
      target.connection.assertReady(`tool "${toolName}"`);
      throw new UnknownToolError(`No tool named "${toolName}" on upstream "${target.connection.label}"`);
    }
    const args: unknown = req.body ?? {};
    const problems = route.validate(args);
    if (problems) throw new InvalidArgumentsError(`Invalid arguments for tool "${toolName}"`, problems);

    const caller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) caller.abort();
    });
    const requested = requestedTimeoutMs(req.get(TOOL_TIMEOUT_HEADER));
    const result = await target.connection.callTool(route.toolName, args as Record<string, unknown>, {
      signal: caller.signal,
      ...(requested === undefined ? {} : { timeoutMs: Math.min(requested, target.connection.toolTimeoutMs) }),
    });
    res.vary("Accept");
    if (req.accepts(["application/json", RAW_RESULT_MEDIA_TYPE]) === RAW_RESULT_MEDIA_TYPE) {
      // isError included, with 200: the caller asked for the result as MCP gives it and reads the flag itself.
      res.type(RAW_RESULT_MEDIA_TYPE).json(result);
      return;
    }
    if (result.isError) throw new ToolExecutionError(errorText(result));
    res.json(resultBody(result, route.outputSchema !== undefined));
  };
}

function requestedTimeoutMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new BadRequestError(
      `${TOOL_TIMEOUT_HEADER} must be a positive number of seconds, got ${JSON.stringify(header)}`,
    );
  }
  return Math.round(seconds * 1000);
}
