import { isStrictScopeSuperset, type OAuthClientProvider } from "@modelcontextprotocol/client";
import type { OAuthSettings } from "../../config/schema.js";
import { createMachineProvider } from "./machine.js";
import { StoreProvider } from "./provider.js";
import { MAX_STEP_UP_LOGINS, StepUpLimitError } from "./step-up.js";
import { TokenStore } from "./token-store.js";

/**
 * OAuth for one upstream in the running proxy: the provider handed to the transports and the store behind it.
 * When the SDK wants a human (no token, a refused refresh, a step-up), nothing is printed or opened: the need is
 * recorded (a step-up's scope goes to the store, for `mcpo auth`), the attempt fails with the SDK's
 * UnauthorizedError, and the connection waits in state `unauthorized` until the store changes.
 */
export class UpstreamAuth {
  readonly store: TokenStore;
  readonly provider: OAuthClientProvider;
  /** The command a human runs to log in; undefined for the grants that need no human. */
  readonly loginCommand: string | undefined;
  /** Set once the server proved to be a 2025-03-26 one with a same-origin issuer (see legacy-issuer.ts). */
  legacyIssuer = false;

  constructor(serverName: string, url: string, settings: OAuthSettings) {
    this.store = new TokenStore(settings.tokenDir, serverName, url);
    this.loginCommand = settings.grant === "authorization_code" ? settings.loginCommand : undefined;
    this.provider =
      settings.grant === "authorization_code"
        ? new StoreProvider({
            settings,
            store: this.store,
            onRedirect: (authorizationUrl) => this.#needLogin(authorizationUrl),
          })
        : createMachineProvider(settings, this.store);
  }

  /** A step-up recorded for `mcpo auth` that no login has answered yet. */
  get stepUpPending(): boolean {
    const pending = this.store.read().pending;
    return pending !== undefined && pending.done !== true;
  }

  /**
   * A call went through: the step-up logins counted so far did their job, so a later step-up (another tool,
   * another scope) starts counting afresh.
   */
  succeeded(): void {
    if (this.store.read().pending?.done) {
      this.store.update((content) => {
        const next = { ...content };
        delete next.pending;
        return next;
      });
    }
  }

  #needLogin(authorizationUrl: URL): void {
    const content = this.store.read();
    const scope = authorizationUrl.searchParams.get("scope") ?? undefined;
    // No token held, or a redirect for no more scope than held (a refused refresh, a revoked token): a plain login.
    if (!content.tokens || !isStrictScopeSuperset(scope, content.tokens.scope)) return;
    // A step-up (403 insufficient_scope): more scope than held, which only a human can grant.
    const logins = content.pending?.done ? content.pending.attempts : 0;
    if (logins >= MAX_STEP_UP_LOGINS) throw new StepUpLimitError(logins);
    const resourceMetadataUrl = (this.provider as StoreProvider).discoveryState?.()?.resourceMetadataUrl;
    this.store.update((current) => ({
      ...current,
      pending: {
        ...(scope ? { scope } : {}),
        ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
        attempts: logins,
      },
    }));
  }
}
