import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  createPrivateKeyJwtAuth,
  type AddClientAuthentication,
  type OAuthClientInformationContext,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import type { OAuthSettings } from "../../config/schema.js";
import { isExpiring, keep, type TokenStore } from "./token-store.js";

/** What happens when the SDK wants a human to open the authorization URL. */
export type RedirectHandler = (authorizationUrl: URL) => void | Promise<void>;

/** The loopback redirect URI `mcpo auth` listens on: always 127.0.0.1, never a name that DNS could move. */
export function loopbackRedirectUrl(port: number): string {
  return `http://127.0.0.1:${port}/callback`;
}

/** Whether a redirect URI is one we may use: http on a loopback address, path /callback. */
export function isLoopbackRedirect(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" && ["127.0.0.1", "[::1]"].includes(parsed.hostname);
  } catch {
    return false;
  }
}

/** Constant-time comparison of two `state` values (different lengths compare unequal without a timing hint of where). */
export function sameState(expected: string, received: string | null): boolean {
  if (received === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  // timingSafeEqual needs equal lengths; compare against itself so the time does not depend on the content.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(a, a), false);
}

export interface StoreProviderOptions {
  settings: OAuthSettings;
  store: TokenStore;
  onRedirect: RedirectHandler;
  /** The port `mcpo auth` actually listens on (redirect_port 0 picks one); defaults to the configured one. */
  redirectPort?: number;
  /** `mcpo auth`: do not use stored tokens (a fresh login), only what this run obtains. */
  freshLogin?: boolean;
}

/**
 * The authorization-code client of one upstream, backed by the token store: a pre-registered client, a Client ID
 * Metadata Document URL, or a dynamically registered client (kept per issuer); PKCE (S256) and `iss` checks are the
 * SDK's. The proxy and `mcpo auth` each build one; only `onRedirect` differs.
 */
export class StoreProvider implements OAuthClientProvider {
  readonly #settings: OAuthSettings;
  readonly #store: TokenStore;
  readonly #onRedirect: RedirectHandler;
  readonly #redirectUrl: string;
  readonly #freshLogin: boolean;
  #obtainedThisRun = false;
  /**
   * The access token this provider last handed the SDK (or saved), so that invalidating "the tokens" drops those and
   * never newer ones another process (`mcpo auth`) wrote meanwhile.
   */
  #lastSeenAccessToken: string | undefined;
  #codeVerifier: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #state: string | undefined;
  readonly addClientAuthentication?: AddClientAuthentication;

  constructor(options: StoreProviderOptions) {
    this.#settings = options.settings;
    this.#store = options.store;
    this.#onRedirect = options.onRedirect;
    this.#redirectUrl = loopbackRedirectUrl(options.redirectPort ?? options.settings.redirectPort);
    this.#freshLogin = options.freshLogin ?? false;
    const { settings } = options;
    if (settings.tokenEndpointAuthMethod === "private_key_jwt" && settings.privateKey && settings.clientId) {
      this.addClientAuthentication = createPrivateKeyJwtAuth({
        issuer: settings.clientId,
        subject: settings.clientId,
        privateKey: settings.privateKey,
        alg: settings.signingAlgorithm ?? "ES256",
      });
    }
  }

  get redirectUrl(): string {
    return this.#redirectUrl;
  }

  get clientMetadataUrl(): string | undefined {
    return this.#settings.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    const method = this.#settings.tokenEndpointAuthMethod;
    return {
      client_name: this.#settings.clientName,
      redirect_uris: [this.#redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      ...(method ? { token_endpoint_auth_method: method } : {}),
      ...(this.#settings.scope ? { scope: this.#settings.scope } : {}),
    };
  }

  /** A fresh random `state` per authorization request; `expectedState` is what the callback must bring back. */
  state(): string {
    this.#state = randomBytes(32).toString("base64url");
    return this.#state;
  }

  get expectedState(): string | undefined {
    return this.#state;
  }

  clientInformation(ctx?: OAuthClientInformationContext): StoredOAuthClientInformation | undefined {
    const { clientId, clientSecret, tokenEndpointAuthMethod } = this.#settings;
    if (clientId) {
      return {
        client_id: clientId,
        ...(clientSecret ? { client_secret: clientSecret } : {}),
        ...(tokenEndpointAuthMethod ? { token_endpoint_auth_method: tokenEndpointAuthMethod } : {}),
        redirect_uris: [this.#redirectUrl],
        // Stamped with its configured issuer (the SDK then sends it to no other authorization server); without one,
        // with the issuer asked for: a pre-registered client is ours to use at the configured server.
        ...(this.#settings.issuer ? { issuer: this.#settings.issuer } : ctx?.issuer ? { issuer: ctx.issuer } : {}),
      };
    }
    const clients = this.#store.read().clients ?? {};
    const found = ctx?.issuer ? clients[ctx.issuer] : Object.values(clients).at(-1);
    // `mcpo auth`: a client registered for another redirect URI (redirect_port 0 picks a new port each time)
    // registers again. (The proxy never redeems a code: any registered client will do for a refresh.)
    const registered = (found as { redirect_uris?: unknown } | undefined)?.redirect_uris;
    if (this.#freshLogin && Array.isArray(registered) && !registered.includes(this.#redirectUrl)) return undefined;
    return found;
  }

  saveClientInformation(info: StoredOAuthClientInformation, ctx?: OAuthClientInformationContext): void {
    if (this.#settings.clientId) return; // pre-registered: nothing to keep
    const issuer = ctx?.issuer ?? info.issuer ?? "";
    this.#store.update((content) => ({ ...content, clients: { ...content.clients, [issuer]: info } }));
  }

  /**
   * The stored tokens. For the transport's per-request read (no ctx), an access token about to expire is not
   * offered: the request goes without, the server answers 401, and the SDK refreshes (with ctx) before retrying.
   */
  tokens(ctx?: OAuthClientInformationContext): StoredOAuthTokens | undefined {
    if (this.#freshLogin && !this.#obtainedThisRun) return undefined;
    const tokens = this.#store.read().tokens;
    if (!tokens) return undefined;
    this.#lastSeenAccessToken = tokens.access_token;
    if (ctx === undefined && tokens.refresh_token && isExpiring(tokens)) return undefined;
    const { expires_at: _expiresAt, ...rest } = tokens;
    return rest;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.#obtainedThisRun = true;
    this.#lastSeenAccessToken = tokens.access_token;
    this.#store.update((content) => ({ ...content, tokens: keep(tokens) }));
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    await this.#onRedirect(authorizationUrl);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#codeVerifier) throw new Error("no PKCE code verifier: the authorization was not started here");
    return this.#codeVerifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "verifier") this.#codeVerifier = undefined;
    if (scope === "all" || scope === "discovery") this.#discovery = undefined;
    if (scope === "all" || scope === "tokens" || scope === "client") {
      this.#store.update((content) => {
        const next = { ...content };
        // The SDK invalidates the tokens it was refused with: tokens written since (a login in another process,
        // between this provider's read and the refusal) are not those, and stay.
        if (scope !== "client" && content.tokens?.access_token === this.#lastSeenAccessToken) delete next.tokens;
        if (scope !== "tokens") delete next.clients;
        return next;
      });
    }
  }
}
