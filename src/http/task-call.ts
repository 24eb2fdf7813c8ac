import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { identityOf } from "../auth/identity.js";
import type { ToolRoute } from "../catalog/index.js";
import { InternalError, ProxyError, ToolExecutionError, UpstreamTimeoutError } from "../errors/index.js";
import type {
  CallerIdentity,
  CallOptions,
  RequestSender,
  TaskStatusListener,
  UpstreamTask,
} from "../upstream/index.js";
import { errorBody } from "./error-handler.js";
import { errorText, resultBody } from "./result-body.js";
import { taskStoreOf, type TaskFailure, type TaskRecord } from "./task-store.js";
import type { ToolTarget } from "./tool-handler.js";
import { writeJson } from "./write-json.js";

/** The preference (RFC 7240) that asks for 202 and a task to poll instead of waiting for the result. */
export const RESPOND_ASYNC = "respond-async";

/** Whether a `Prefer` header holds `respond-async` (among other preferences, any case, with or without a value). */
export function prefersAsync(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const values = Array.isArray(header) ? header.join(",") : header;
  if (!values.toLowerCase().includes(RESPOND_ASYNC)) return false;
  return values.split(",").some((preference) => preference.split(/[;=]/)[0]!.trim().toLowerCase() === RESPOND_ASYNC);
}

export interface TaskCall {
  readonly target: ToolTarget;
  readonly route: ToolRoute & { taskSupport: "optional" | "required" };
  readonly args: Record<string, unknown>;
  /** The forwarding caller's identity, when the server forwards it. */
  readonly identity: CallerIdentity | undefined;
  readonly callOptions: CallOptions;
  /** Where the mount's task routes are, as callers see them: root path + mount path + "/tasks". */
  readonly tasksPath: string;
  /** Told each task status of a blocking call (for progress events in a stream). */
  readonly onStatus?: TaskStatusListener;
}

/**
 * A tool call the upstream runs as an MCP task. Blocking (the default): followed to its end and answered with
 * its result, which the caller answers as any call's (`undefined` when this function answered itself). With
 * `Prefer: respond-async`: 202 and a task to poll at `Location` (task-routes.ts); when the upstream answered at
 * once after all, its result, answered as a plain call's (the preference was not honoured).
 */
export async function callAsTask(
  req: IncomingMessage,
  res: ServerResponse,
  call: TaskCall,
): Promise<CallToolResult | undefined> {
  const { target, route, callOptions } = call;
  const operation = `tool "${route.toolName}"`;
  const senders = target.connection.toolTask(route.toolName, call.args, {
    required: route.taskSupport === "required",
    ...(callOptions.timeoutMs === undefined ? {} : { timeoutMs: callOptions.timeoutMs }),
    ...(call.onStatus ? { onStatus: call.onStatus } : {}),
  });
  const run = <T>(send: RequestSender<T>): Promise<T> =>
    target.forwarding && call.identity
      ? target.forwarding.request(call.identity, operation, send, callOptions)
      : target.connection.request(operation, send, callOptions);
  if (!prefersAsync(req.headers.prefer)) return run(senders.blocking);

  const store = taskStoreOf(target.connection);
  // Room is made (or 503 answered) before anything starts upstream.
  let cancel: () => Promise<void> = () => Promise.resolve();
  const record = store.add(ownerOf(req, call.identity), route.toolName, () => cancel());
  let started;
  try {
    started = await run(senders.start);
  } catch (error) {
    store.remove(record);
    throw error;
  }
  if (started.kind === "immediate") {
    store.remove(record);
    return started.result;
  }
  const task = started.task;
  cancel = () => task.cancel();
  follow(record, call, task, store.retentionMs);
  const location = `${call.tasksPath}/${record.id}`;
  writeJson(
    res,
    202,
    {
      task_id: record.id,
      status: record.status,
      ...(record.message === undefined ? {} : { status_message: record.message }),
      ...(record.pollIntervalMs === undefined ? {} : { poll_interval_ms: record.pollIntervalMs }),
      location,
    },
    { Location: location, "Preference-Applied": RESPOND_ASYNC, "Cache-Control": "no-store" },
  );
  return undefined;
}

/**
 * Follows a handed-out task in the background, recording its statuses and its end. A task still running when the
 * retention runs out is cancelled upstream: nobody could fetch its result any longer.
 */
function follow(record: TaskRecord, call: TaskCall, task: UpstreamTask, retentionMs: number): void {
  const store = taskStoreOf(call.target.connection);
  const lifetime = new AbortController();
  const timer = setTimeout(() => lifetime.abort(), retentionMs);
  timer.unref();
  let ttlMs: number | undefined;
  task
    .follow({
      signal: lifetime.signal,
      onStatus: (snapshot) => {
        ttlMs = snapshot.ttlMs ?? ttlMs;
        store.update(record, snapshot);
      },
    })
    .then(
      (result) => {
        if (result.isError) {
          const error = new ToolExecutionError(errorText(result));
          store.finish(record, { status: "failed", error: failureOf(error) }, ttlMs);
        } else {
          store.finish(
            record,
            { status: "completed", result: resultBody(result, call.route.outputSchema !== undefined) },
            ttlMs,
          );
        }
      },
      async (error: unknown) => {
        if (lifetime.signal.aborted) {
          await task.cancel();
          error = new UpstreamTimeoutError(
            `the task of tool "${call.route.toolName}" ran longer than the proxy keeps tasks; it was cancelled upstream`,
          );
        }
        const proxyError = asProxyError(error);
        store.finish(
          record,
          { status: proxyError.code === "task_cancelled" ? "cancelled" : "failed", error: failureOf(proxyError) },
          ttlMs,
        );
      },
    )
    .finally(() => clearTimeout(timer))
    .catch(() => undefined);
}

/** What GET answers for a task that did not complete: the status and body a blocking call would have had. */
export function failureOf(error: ProxyError): TaskFailure {
  return { status: error.httpStatus, detail: (errorBody(error) as { detail: unknown }).detail };
}

function asProxyError(error: unknown): ProxyError {
  return error instanceof ProxyError
    ? error
    : new InternalError(`the task failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
}

/**
 * Who a task belongs to, so that only the caller who started it may see or cancel it: the verified JWT's subject,
 * else the forwarded identity (a digest of the headers it forwards), else a digest of the Authorization header
 * (the API key). Undefined when the caller is anonymous: the unguessable id is then the only guard.
 */
export function ownerOf(req: IncomingMessage, identity: CallerIdentity | undefined): string | undefined {
  const verified = identityOf(req);
  if (verified) return `jwt:${verified.source}:${verified.subject}`;
  if (identity) return `forwarded:${identity.key}`;
  const authorization = req.headers.authorization;
  return authorization ? `key:${createHash("sha256").update(authorization).digest("hex")}` : undefined;
}
