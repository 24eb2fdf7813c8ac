import type { CallToolResult, Client, Progress, Tool } from "@modelcontextprotocol/client";
import type { ConnectionSettings } from "../config/schema.js";
import {
  ClientClosedRequestError,
  InputRequiredError,
  UpstreamTimeoutError,
  type ProxyError,
} from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { formatSeconds, isLostSession, isUnreadableReply } from "./classify-error.js";
import { withCallLogs, type CallLog } from "./call-logs.js";
import { failed, renewSession, timeLeft } from "./request.js";
import type { CallInputs, InputBroker, ServerRequestHandler, UnsatisfiedInput } from "./elicitation.js";
import type { SilenceWatch } from "./silence-watch.js";

export interface CallOptions {
  /**
   * The call's controller: abort it when the caller goes away, and the call is cancelled upstream. The hard
   * cap aborts it too. One controller per call (none is made when given).
   */
  controller?: AbortController;
  /** Shortens the server's tool timeout for this call; it is then also the hard cap. */
  timeoutMs?: number;
  /** Called when the call goes upstream (after any wait for a reconnect or a slot); again if it is retried. */
  onSent?: () => void;
  /** Each progress notification of this call (they are asked for then even with `timeoutMs`, which they never extend). */
  onProgress?: (progress: Progress) => void;
  /**
   * Each `notifications/message` of this call. Only where the transport ties it to the call for certain: a message
   * on the call's own response stream (Streamable HTTP). Elsewhere (stdio, legacy SSE) none arrive (see call-logs.ts).
   */
  onLog?: (log: CallLog) => void;
  /**
   * Answers the upstream's requests to its client (elicitation, sampling, roots) that belong to this call for
   * certain: on 2026-07-28 (input requests) and 2025 Streamable HTTP (on the call's own stream) always; on 2025
   * stdio and legacy SSE only while this is the one call in flight, and never a roots/list. Without it (or when it
   * resolves `undefined`) the proxy answers as for a REST caller: elicitation by the policy, sampling with an MCP
   * error (either refusal makes the call fail with 409 input_required), roots with an empty list. See
   * elicitation.ts. (For `request()` too: a 2026-07-28 prompts/get or resources/read may ask for input; there a
   * refusal is not turned into a 409.)
   */
  onServerRequest?: ServerRequestHandler;
}

/** What a call needs of its connection. */
export interface CallContext {
  /** How messages name the upstream, e.g. `upstream "time" (stdio-node)`. */
  readonly who: string;
  readonly settings: ConnectionSettings;
  readonly log: Logger;
  /** The current session, or a 503-mapped error. */
  session(operation: string): { client: Client; watch?: SilenceWatch; inputsInCallContext: boolean };
  /** Whether a server's messages about a call arrive in the call's async context (Streamable HTTP: see call-logs.ts). */
  readonly logsInCallContext: boolean;
  /**
   * The tool as the SDK's callTool should see it (for the 2026-07-28 `Mcp-Param-*` headers), if listed. Its
   * outputSchema is left out: results are passed on as the upstream made them, not judged by the SDK.
   */
  definition(name: string): Tool | undefined;
  readonly inputs: InputBroker;
  /** Drops a session the call found broken (reconnecting starts). */
  lose(client: Client, reason: string): void;
  waitUntilReady(timeoutMs: number, operation: string, signal?: AbortSignal): Promise<void>;
  classify(error: unknown, operation: string, timeoutMs: number): ProxyError;
  succeeded(): void;
  failed(message: string): void;
}

/**
 * One tools/call, which always ends: the tool timeout (restarted by each
 * progress notification), a hard cap, or the caller going away; the last two
 * cancel it upstream. A call the upstream refused because it forgot our
 * session never ran, so it is run once more on a fresh session; any other
 * failure is final (the call may have run).
 */
export async function callTool(
  context: CallContext,
  name: string,
  args: Record<string, unknown>,
  options: CallOptions,
  /** When the call arrived: time spent waiting for a reconnect or in the queue counts against its timeout. */
  startedAt = Date.now(),
): Promise<CallToolResult> {
  const operation = `tool "${name}"`;
  const { settings } = context;
  const timeoutMs = options.timeoutMs ?? settings.toolTimeoutMs;
  const capMs = options.timeoutMs ?? settings.maxToolTimeoutMs;
  // One controller per call, aborted by the caller going away or by the hard cap. The cap's timer starts
  // only with the first progress notification: before that, the tool timeout bounds the call. (No
  // AbortSignal.any/timeout: they cost a timer and weak references on every call. And the SDK's
  // own maxTotalTimeout would not send notifications/cancelled upstream.)
  const controller = options.controller ?? new AbortController();
  let capTimer: NodeJS.Timeout | undefined;
  let capped = false;
  const { onProgress, onLog } = options;
  // A caller-set timeout (X-Tool-Timeout) is a hard bound: progress does not extend it (but is still passed on).
  const progress =
    options.timeoutMs === undefined
      ? {
          resetTimeoutOnProgress: true,
          onprogress: (update: Progress) => {
            capTimer ??= setTimeout(
              () => {
                capped = true;
                controller.abort();
              },
              Math.max(0, capMs - (Date.now() - startedAt)),
            );
            onProgress?.(update);
          },
        }
      : onProgress
        ? { onprogress: onProgress }
        : {};
  try {
    return await attempts();
  } finally {
    clearTimeout(capTimer);
  }

  async function attempts(): Promise<CallToolResult> {
    for (let attempt = 1; ; attempt++) {
      // What is left of the tool timeout after the waits (the queue, a reconnect); progress restarts it whole.
      const leftMs = timeLeft(context, operation, timeoutMs, startedAt);
      const session = context.session(operation);
      const done = session.watch?.begin();
      const inputs: CallInputs = options.onServerRequest ? { handler: options.onServerRequest } : {};
      const toolDefinition = context.definition(name);
      try {
        options.onSent?.();
        const send = (): Promise<CallToolResult> =>
          session.client.callTool(
            { name, arguments: args },
            // Progress notifications restart the timeout (onprogress makes the SDK ask for them).
            {
              timeout: leftMs,
              signal: controller.signal,
              ...progress,
              ...(toolDefinition ? { toolDefinition } : {}),
            },
          );
        const result = await context.inputs.track(
          inputs,
          session.inputsInCallContext,
          onLog && context.logsInCallContext ? () => withCallLogs(onLog, send) : send,
        );
        // The server went on without the input it asked for: its answer is not what the caller wanted.
        if (inputs.unsatisfied) throw inputRequired(context, operation, inputs.unsatisfied);
        context.succeeded();
        return result as CallToolResult;
      } catch (error) {
        if (error instanceof InputRequiredError) throw error;
        if (controller.signal.aborted && !capped) throw new ClientClosedRequestError();
        if (attempt === 1 && isLostSession(error)) {
          await renewSession(context, session.client, operation, { tool: name }, controller.signal);
          continue;
        }
        const proxyError = capped
          ? new UpstreamTimeoutError(
              capMs > timeoutMs
                ? `${context.who} kept ${operation} going past the cap of ${formatSeconds(capMs)}; the call was cancelled upstream`
                : `${context.who} did not answer ${operation} within ${formatSeconds(capMs)}; the call was cancelled upstream`,
              { cause: error },
            )
          : inputs.unsatisfied
            ? inputRequired(context, operation, inputs.unsatisfied, error)
            : context.classify(error, operation, timeoutMs);
        // (A reply the transport dropped for its size was logged there.)
        if (isUnreadableReply(error) && error.data.kind === "unreadable")
          context.log.warn(
            { tool: name, error: proxyError.message },
            "the upstream sent an answer the proxy cannot read",
          );
        throw failed(context, session.client, error, proxyError);
      } finally {
        done?.();
      }
    }
  }
}

/** The 409 for a call whose server asked for input the policy could not give. */
function inputRequired(
  context: CallContext,
  operation: string,
  input: UnsatisfiedInput,
  cause?: unknown,
): InputRequiredError {
  return new InputRequiredError(
    `${context.who} asked for input during ${operation} that the proxy could not give, so it was declined (${input.reason}): ${input.message}`,
    {
      ...(cause === undefined ? {} : { cause }),
      extra: { input_message: input.message, ...(input.url === undefined ? {} : { url: input.url }) },
    },
  );
}
