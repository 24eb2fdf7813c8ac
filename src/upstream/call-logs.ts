import { AsyncLocalStorage } from "node:async_hooks";
import type { LoggingMessageNotification } from "@modelcontextprotocol/client";

/** An upstream log message (`notifications/message`) as a call's caller gets it. */
export type CallLog = LoggingMessageNotification["params"];

/**
 * Which call a `notifications/message` is about. MCP's log message names no
 * request, and in a gateway one upstream session serves many callers, so a
 * message reaches a caller only when the transport says, for certain, whose
 * it is: on Streamable HTTP (both eras) a message the server sends about a
 * request travels on that request's own response stream, which the SDK reads
 * in the async context of the request's `send` (its reader loop is started
 * there), so the notification handler runs in the call's context. Messages
 * on the session's GET stream (or on 2026-07-28 `subscriptions/listen`),
 * on stdio and on legacy SSE share one channel for every call: no call's
 * context is active when they are handled, and they reach no caller.
 *
 * Only calls that asked for logs (a streaming caller) run inside the storage,
 * so plain calls pay nothing. Streams a connection opens must not inherit a
 * call's context (a reconnect started by a failing call would carry it into
 * the new session's GET stream): the connection starts them under
 * `outsideCallLogs`.
 */
const current = new AsyncLocalStorage<(log: CallLog) => void>();

/** Runs one call so that the log messages that arrive on its own stream go to `onLog`. */
export function withCallLogs<T>(onLog: (log: CallLog) => void, run: () => Promise<T>): Promise<T> {
  return current.run(onLog, run);
}

/** Runs `run` (and whatever it starts) outside any call's log context. */
export function outsideCallLogs<T>(run: () => T): T {
  return current.exit(run);
}

/** The client's `notifications/message` handler: the message goes to the call it is about, if any. */
export function deliverCallLog(notification: LoggingMessageNotification): void {
  current.getStore()?.(notification.params);
}
