import type { CallOptions } from "../upstream/index.js";
import type { FaceSource } from "./scope.js";

/**
 * Which sessions of an MCP endpoint subscribed to which resources (`resources/subscribe`, 2025 sessions), so that an
 * upstream's `notifications/resources/updated` reaches exactly them. The upstream is asked once per resource for
 * all callers of a shared connection (src/upstream/resource-subscriptions.ts); a session that ends leaves its
 * resources, so the upstream stops reporting what nobody watches.
 */
export class ResourceWatchers {
  readonly #bySession = new Map<string, Map<string, FaceSource>>();

  async subscribe(session: string, source: FaceSource, uri: string, options: CallOptions): Promise<void> {
    const watched = this.#bySession.get(session);
    if (watched?.has(uri)) return;
    await source.connection.subscribeResource(uri, options);
    const now = this.#bySession.get(session) ?? new Map<string, FaceSource>();
    now.set(uri, source);
    this.#bySession.set(session, now);
  }

  async unsubscribe(session: string, uri: string, options: CallOptions): Promise<void> {
    const watched = this.#bySession.get(session);
    const source = watched?.get(uri);
    if (!watched || !source) return;
    watched.delete(uri);
    if (watched.size === 0) this.#bySession.delete(session);
    await source.connection.unsubscribeResource(uri, options);
  }

  /** The sessions that watch `uri` of `source`. */
  watchersOf(source: FaceSource, uri: string): string[] {
    const found: string[] = [];
    for (const [session, watched] of this.#bySession) if (watched.get(uri) === source) found.push(session);
    return found;
  }

  /** A session ended: its resources are left (in the background; a failure only means the upstream reports more). */
  drop(session: string): void {
    const watched = this.#bySession.get(session);
    if (!watched) return;
    this.#bySession.delete(session);
    for (const [uri, source] of watched) source.connection.unsubscribeResource(uri).catch(() => undefined);
  }
}
