import type { Client } from "@modelcontextprotocol/client";
import {
  ClientClosedRequestError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type ProxyError,
} from "../errors/index.js";
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
    const leftMs = timeLeft(context, operation, timeoutMs, startedAt);
    const session = context.session(operation);
    const done = session.watch?.begin();
    try {
      options.onSent?.();
      const sendNow = (): Promise<T> => send(session.client, { timeout: leftMs, signal: controller.signal });
      // (A 2026-07-28 prompts/get or resources/read may ask for input too; without a handler nothing is tracked.)
      const { onServerRequest: handler } = options;
      const result = handler
        ? await context.inputs.track({ handler }, session.inputsInCallContext, sendNow)
        : await sendNow();
      context.succeeded();
      return result;
    } catch (error) {
      if (controller.signal.aborted) throw new ClientClosedRequestError();
      if (attempt === 1 && isLostSession(error)) {
        await renewSession(context, session.client, operation, { operation }, controller.signal);
        continue;
      }
      throw failed(context, session.client, error, context.classify(error, operation, timeoutMs));
    } finally {
      done?.();
    }
  }
}

/**
 * What is left of a call's time after its waits (the queue, a reconnect), or the 504 of a call that never got sent.
 * (A call and any other request alike: tool-call.ts and runRequest.)
 */
export function timeLeft(context: CallContext, operation: string, timeoutMs: number, startedAt: number): number {
  const leftMs = timeoutMs - (Date.now() - startedAt);
  if (leftMs <= 0) {
    throw new UpstreamTimeoutError(
      `${context.who} could not start ${operation} within ${formatSeconds(timeoutMs)} (waiting for a reconnect or a slot took it all); it was never sent`,
    );
  }
  return leftMs;
}

/** The upstream forgot our session, so the request never ran: the session is dropped and a fresh one waited for. */
export async function renewSession(
  context: CallContext,
  client: Client,
  operation: string,
  logFields: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  context.log.warn(logFields, "the upstream forgot the session; re-initializing and sending it once more");
  context.lose(client, "the upstream forgot the session");
  await context.waitUntilReady(context.settings.connectionTimeoutMs, operation, signal);
}

/**
 * A final failure, recorded; a connection it found gone is dropped (reconnecting starts), a busy one (its input
 * full) is not: it is slow, not gone, and only this request is refused. Returns `proxyError` to throw.
 */
export function failed(context: CallContext, client: Client, error: unknown, proxyError: ProxyError): ProxyError {
  context.failed(proxyError.message);
  if (proxyError instanceof UpstreamUnavailableError && !(error instanceof UpstreamBusyError)) {
    context.lose(client, proxyError.message);
  }
  return proxyError;
}
