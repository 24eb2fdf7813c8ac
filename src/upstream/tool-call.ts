import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ConnectionSettings } from "../config/schema.js";
import {
  ClientClosedRequestError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type ProxyError,
} from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { formatSeconds, isLostSession } from "./classify-error.js";
import type { SilenceWatch } from "./silence-watch.js";

export interface CallOptions {
  /** Aborted when the caller goes away; the upstream call is then cancelled. */
  signal?: AbortSignal;
  /** Shortens the server's tool timeout for this call; it is then also the hard cap. */
  timeoutMs?: number;
}

/** What a call needs of its connection. */
export interface CallContext {
  readonly label: string;
  readonly settings: ConnectionSettings;
  readonly log: Logger;
  /** The current session, or a 503-mapped error. */
  session(operation: string): { client: Client; watch?: SilenceWatch };
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
): Promise<CallToolResult> {
  const operation = `tool "${name}"`;
  const { settings } = context;
  const timeoutMs = options.timeoutMs ?? settings.toolTimeoutMs;
  const capMs = options.timeoutMs ?? settings.maxToolTimeoutMs;
  // Our own hard cap: the SDK's maxTotalTimeout does not send notifications/cancelled upstream.
  const cap = AbortSignal.timeout(capMs);
  const signal = options.signal ? AbortSignal.any([options.signal, cap]) : cap;
  for (let attempt = 1; ; attempt++) {
    const session = context.session(operation);
    const done = session.watch?.begin();
    try {
      const result = await session.client.request(
        { method: "tools/call", params: { name, arguments: args } },
        CallToolResultSchema,
        // Progress notifications restart the timeout (onprogress makes the SDK ask for them).
        { timeout: timeoutMs, resetTimeoutOnProgress: true, onprogress: () => undefined, signal },
      );
      context.succeeded();
      return result;
    } catch (error) {
      if (options.signal?.aborted) throw new ClientClosedRequestError();
      if (attempt === 1 && isLostSession(error)) {
        context.log.warn({ tool: name }, "the upstream forgot the session; re-initializing and retrying the call once");
        context.lose(session.client, "the upstream forgot the session");
        await context.waitUntilReady(settings.connectionTimeoutMs, operation, options.signal);
        continue;
      }
      const proxyError = cap.aborted
        ? new UpstreamTimeoutError(
            capMs > timeoutMs
              ? `upstream "${context.label}" kept ${operation} going past the cap of ${formatSeconds(capMs)}; the call was cancelled upstream`
              : `upstream "${context.label}" did not answer ${operation} within ${formatSeconds(capMs)}; the call was cancelled upstream`,
            { cause: error },
          )
        : context.classify(error, operation, timeoutMs);
      context.failed(proxyError.message);
      if (proxyError instanceof UpstreamUnavailableError) context.lose(session.client, proxyError.message);
      throw proxyError;
    } finally {
      done?.();
    }
  }
}
