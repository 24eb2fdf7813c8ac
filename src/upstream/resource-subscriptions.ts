import type { Client, McpSubscription } from "@modelcontextprotocol/client";
import type { Logger } from "../log/logger.js";
import type { RequestSender } from "./request.js";

interface Watched {
  callers: number;
  /** 2026-07-28: the subscriptions/listen stream that carries this resource's updates. */
  stream?: McpSubscription;
}

/**
 * The resources an upstream is asked to report changes of, for every caller of a shared connection at once: a URI
 * is subscribed upstream when its first caller subscribes and unsubscribed when its last one leaves, and subscribed
 * again on every new session (a reconnect starts without subscriptions). On 2025-11-25 that is
 * `resources/subscribe`; 2026-07-28 has none, so each URI gets a `subscriptions/listen` stream of its own
 * (`resourceSubscriptions: [uri]`), closed with its last caller. Either way the updates arrive as
 * `notifications/resources/updated` (connection.ts passes them on).
 */
export class ResourceSubscriptions {
  readonly #watched = new Map<string, Watched>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The sender of one more caller's subscription to `uri`: upstream only for its first caller. */
  subscribe(uri: string): RequestSender<void> {
    return async (client, options) => {
      const watched = this.#watched.get(uri);
      if (watched) {
        watched.callers++;
        return;
      }
      const stream = await watch(client, uri, options);
      this.#watched.set(uri, { callers: 1, ...(stream ? { stream } : {}) });
    };
  }

  /** The sender of one caller's leaving `uri`: upstream only for its last caller. */
  unsubscribe(uri: string): RequestSender<void> {
    return async (client, options) => {
      const watched = this.#watched.get(uri);
      if (!watched) return;
      if (--watched.callers > 0) return;
      this.#watched.delete(uri);
      if (watched.stream) await watched.stream.close();
      else await client.unsubscribeResource({ uri }, options);
    };
  }

  /** A new session (a reconnect): every URI with callers is subscribed again, in the background. */
  renew(client: Client, timeoutMs: number): void {
    for (const [uri, watched] of this.#watched) {
      delete watched.stream;
      watch(client, uri, { timeout: timeoutMs }).then(
        (stream) => {
          if (stream) watched.stream = stream;
        },
        (error: unknown) =>
          this.#log.warn({ err: error }, "could not subscribe again to a resource after reconnecting"),
      );
    }
  }

  get size(): number {
    return this.#watched.size;
  }
}

/** Subscribes `client` to `uri` as its era does; the 2026-07-28 stream is returned (it must be closed to leave). */
async function watch(
  client: Client,
  uri: string,
  options: { timeout: number; signal?: AbortSignal },
): Promise<McpSubscription | undefined> {
  if (client.getProtocolEra() !== "modern") {
    await client.subscribeResource({ uri }, options);
    return undefined;
  }
  return client.listen({ resourceSubscriptions: [uri] }, options);
}
