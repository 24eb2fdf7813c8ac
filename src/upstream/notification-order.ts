import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/client";

/**
 * Keeps a call's notifications ahead of its answer. The SDK (2.4) hands a
 * notification to its handler a microtask later but settles a response at
 * once, so when a server's last `notifications/progress` (or a log message)
 * and its result arrive together, as they do on stdio, the result wins: the
 * call's progress handler is gone by then and the SDK drops the notification
 * as "unknown token" (typescript-sdk #2580). A streaming caller would miss its
 * last step. So a response that arrives while a notification still waits for
 * its handler is delivered one microtask later, behind it. Every message pays
 * one property check; only a response right behind a notification is delayed.
 */
export function keepNotificationOrder(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  // A notification was handed over and its handler has not run yet.
  let pending = false;
  const settled = (): void => {
    pending = false;
  };
  transport.onmessage = (message: JSONRPCMessage, extra) => {
    if ("method" in message) {
      deliver(message, extra);
      if (!("id" in message) && !pending) {
        pending = true;
        queueMicrotask(settled); // queued behind the SDK's dispatch of this notification
      }
    } else if (pending) {
      queueMicrotask(() => deliver(message, extra));
    } else {
      deliver(message, extra);
    }
  };
}
