import type { Client } from "@modelcontextprotocol/client";
import { ClientClosedRequestError, UpstreamTimeoutError, UpstreamUnavailableError } from "../errors/index.js";
import { formatSeconds, isLostSession } from "./classify-error.js";
import type { CallContext, CallOptions } from "./tool-call.js";
import { UpstreamBusyError } from "./transports/errors.js";

/** What a request is given to send itself: the session's client, and the SDK request options to pass on. */
export type RequestSender<T> = (client: Client, options: { timeout: number; signal: AbortSignal }) => Promise<T>;

/**
 * One request other than tools/call (resources/read, prompts/get, tasks/get, …), which always ends: within what is
 * left of the tool timeout (or the caller's shorter X-Tool-Timeout), or when the caller goes away. Failures are
 * mapped as a call's are (classify-error.ts); a request the upstream refused because it forgot our session never
 * ran, so it is sent once more on a fresh session. A lost connection is dropped, so reconnecting starts.
 */
export async function runRequest<T>(
  context: CallContext,
  operation: string,
  send: RequestSender<T>,
  options: CallOptions,
  startedAt: number,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? context.settings.toolTimeoutMs;
  const controller = options.controller ?? new AbortController();
  for (let attempt = 1; ; attempt++) {
    const leftMs = timeoutMs - (Date.now() - startedAt);
    if (leftMs <= 0) {
      throw new UpstreamTimeoutError(
        `${context.who} could not start ${operation} within ${formatSeconds(timeoutMs)} (waiting for a reconnect or a slot took it all); it was never sent`,
      );
    }
    const session = context.session(operation);
    const done = session.watch?.begin();
    try {
      options.onSent?.();
      const result = await send(session.client, { timeout: leftMs, signal: controller.signal });
      context.succeeded();
      return result;
    } catch (error) {
      if (controller.signal.aborted) throw new ClientClosedRequestError();
      if (attempt === 1 && isLostSession(error)) {
        context.log.warn({ operation }, "the upstream forgot the session; re-initializing and sending once more");
        context.lose(session.client, "the upstream forgot the session");
        await context.waitUntilReady(context.settings.connectionTimeoutMs, operation, controller.signal);
        continue;
      }
      const proxyError = context.classify(error, operation, timeoutMs);
      context.failed(proxyError.message);
      if (proxyError instanceof UpstreamUnavailableError && !(error instanceof UpstreamBusyError)) {
        context.lose(session.client, proxyError.message);
      }
      throw proxyError;
    } finally {
      done?.();
    }
  }
}
