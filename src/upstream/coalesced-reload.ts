import type { Client } from "@modelcontextprotocol/client";

/**
 * Reloads a list when a session says it changed (`tools/list_changed`, `prompts/list_changed`, ...), coalesced: at
 * most one reload in flight and one pending per session, so a burst of notifications costs two reloads, not one
 * each. A reload for a session that is no longer current is not repeated.
 */
export class CoalescedReload {
  #client: Client | undefined;
  #running = false;
  #pending = false;
  #coalesced = 0;

  constructor(
    /** Reloads and reports its own failures; a rejection is dropped, so that it can never end the process. */
    private readonly reload: (client: Client) => Promise<void>,
    /** Whether `client` is still the session the list is kept for. */
    private readonly isCurrent: (client: Client) => boolean,
    /** Told how many notifications a reload absorbed, when any did. */
    private readonly onCoalesced?: (notifications: number) => void,
  ) {}

  /** A change notification on `client`'s session. */
  changed(client: Client): void {
    if (this.#client === client && this.#running) {
      this.#pending = true;
      this.#coalesced++;
      return;
    }
    this.#client = client;
    this.#running = true;
    this.#pending = false;
    this.#coalesced = 0;
    this.#run(client).catch(() => undefined);
  }

  async #run(client: Client): Promise<void> {
    try {
      do {
        this.#pending = false;
        await this.reload(client);
      } while (this.#pending && this.isCurrent(client));
    } finally {
      if (this.#client === client) {
        this.#running = false;
        if (this.#coalesced > 0) this.onCoalesced?.(this.#coalesced);
      }
    }
  }
}
