import { readFileSync } from "node:fs";
import {
  ClientCredentialsProvider,
  CrossAppAccessProvider,
  PrivateKeyJwtProvider,
  requestJwtAuthorizationGrant,
  type OAuthClientProvider,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import type { OAuthSettings } from "../../config/schema.js";
import { isExpiring, keep, type TokenStore } from "./token-store.js";

/**
 * A provider for a grant without a human: client credentials (client_secret_basic / _post, or private_key_jwt) or
 * cross-app access (an enterprise IdP's ID token exchanged for an authorization grant, RFC 8693 then RFC 7523).
 * These are the SDK's own providers; only their tokens move to the token store, so that a restart does not ask
 * for a new token and an expired one is replaced before use.
 */
export function createMachineProvider(settings: OAuthSettings, store: TokenStore): OAuthClientProvider {
  const clientId = settings.clientId!;
  const scope = settings.scope ? { scope: settings.scope } : {};
  // The credentials go to this authorization server only (SEP-2352); absent, to the one the MCP server names.
  const issuer = settings.issuer ? { expectedIssuer: settings.issuer } : {};
  let provider: OAuthClientProvider;
  if (settings.grant === "cross_app_access") {
    const idp = settings.idp!;
    provider = new CrossAppAccessProvider({
      clientId,
      clientSecret: settings.clientSecret ?? "",
      clientName: settings.clientName,
      assertion: async (context) => {
        const result = await requestJwtAuthorizationGrant({
          tokenEndpoint: idp.tokenEndpoint,
          audience: context.authorizationServerUrl,
          resource: context.resourceUrl,
          // Re-read at every exchange: whatever signs the user in keeps this file fresh.
          idToken: readFileSync(idp.idTokenFile, "utf8").trim(),
          clientId: idp.clientId,
          ...(idp.clientSecret ? { clientSecret: idp.clientSecret } : {}),
          ...(context.scope ? { scope: context.scope } : {}),
          fetchFn: context.fetchFn,
        });
        return result.jwtAuthGrant;
      },
    });
  } else if (settings.privateKey && settings.tokenEndpointAuthMethod !== "client_secret_basic") {
    provider = new PrivateKeyJwtProvider({
      clientId,
      privateKey: settings.privateKey,
      algorithm: settings.signingAlgorithm ?? "ES256",
      clientName: settings.clientName,
      ...scope,
      ...issuer,
    });
  } else {
    provider = new ClientCredentialsProvider({
      clientId,
      clientSecret: settings.clientSecret ?? "",
      clientName: settings.clientName,
      ...scope,
      ...issuer,
    });
  }
  keepTokensIn(provider, store);
  useConfiguredMethod(provider, settings);
  return provider;
}

/**
 * The SDK's ClientCredentialsProvider always registers itself for client_secret_basic; the SDK picks the token
 * endpoint method from the client information, so a configured method (client_secret_post) is set there.
 */
function useConfiguredMethod(provider: OAuthClientProvider, settings: OAuthSettings): void {
  const method = settings.tokenEndpointAuthMethod;
  if (method !== "client_secret_post" && method !== "client_secret_basic") return;
  const original = provider.clientInformation.bind(provider);
  provider.clientInformation = async (ctx) => {
    const info = await original(ctx);
    return info && { ...info, token_endpoint_auth_method: method };
  };
}

/** Moves a provider's tokens into the store (and hides an expiring one from the per-request read). */
function keepTokensIn(provider: OAuthClientProvider, store: TokenStore): void {
  provider.tokens = (ctx?: unknown): StoredOAuthTokens | undefined => {
    const tokens = store.read().tokens;
    if (!tokens || (ctx === undefined && isExpiring(tokens))) return undefined;
    const { expires_at: _expiresAt, ...rest } = tokens;
    return rest;
  };
  provider.saveTokens = (tokens: StoredOAuthTokens): void =>
    store.update((content) => ({ ...content, tokens: keep(tokens) }));
  provider.invalidateCredentials = (scope): void => {
    if (scope === "all" || scope === "tokens") {
      store.update((content) => {
        const next = { ...content };
        delete next.tokens;
        return next;
      });
    }
  };
}
