import {
  auth,
  computeScopeUnion,
  IssuerMismatchError,
  OAuthError,
  UnauthorizedError,
  type Client,
  type OAuthClientProvider,
} from "@modelcontextprotocol/client";
import type { ServerConfig } from "../../config/schema.js";
import { redactText } from "../../errors/index.js";
import { dial } from "../dial.js";
import { InputBroker } from "../elicitation.js";
import { describeTransport } from "../transports/create-transport.js";
import { remoteFetch } from "../transports/remote.js";
import { CallbackError, CallbackServer, type CallbackResult } from "./callback-server.js";
import { isLegacySameOriginIssuer } from "./legacy-issuer.js";
import { createMachineProvider } from "./machine.js";
import { StoreProvider } from "./provider.js";
import { TokenStore } from "./token-store.js";

/** Logins one `mcpo auth` run goes through: the first, and one more if the server moved to another authorization server. */
const MAX_LOGIN_ROUNDS = 2;

export interface LoginOptions {
  /** A remote server with an `oauth` block. */
  server: ServerConfig;
  clientInfo: { name: string; version: string };
  /** How long to wait for the browser to come back. */
  timeoutMs: number;
  /** The authorization URL, alone (stdout: a script reads it). */
  printUrl: (url: string) => void;
  /** What a human should know (stderr). */
  tell: (line: string) => void;
}

export interface LoginOutcome {
  /** Tools the server listed with the new token. */
  tools: number;
  /** The scope granted, when the server said. */
  scope?: string;
  /** false: the grant needs no human (client credentials, cross-app access) or the server needs no login. */
  loggedIn: boolean;
}

/** A login that could not complete; the message is safe to show (no token, no attacker-controlled text). */
export class LoginError extends Error {
  override readonly name = "LoginError";
}

/**
 * `mcpo auth`: one authorization-code login for one upstream. Discovery, registration, PKCE (S256) and the `iss`
 * check are the SDK's (`auth()`); here: the loopback listener, the `state` check, the token store, a pending
 * step-up's scope, and the proof (connecting with the new token and listing tools).
 */
export async function runLogin(options: LoginOptions): Promise<LoginOutcome> {
  const { server } = options;
  const transport = server.transport;
  if (transport.type === "stdio" || !transport.oauth) throw new LoginError("this server has no oauth settings");
  const settings = transport.oauth;
  const store = new TokenStore(settings.tokenDir, server.name, transport.url);
  if (settings.grant !== "authorization_code") {
    options.tell(`grant ${settings.grant} needs no human: checking that a token can be obtained`);
    const tools = await verify(options, createMachineProvider(settings, store));
    return { tools, loggedIn: false };
  }

  const callback = await CallbackServer.listen(settings.redirectPort).catch((error: unknown) => {
    throw new LoginError(
      `cannot listen on 127.0.0.1:${settings.redirectPort} for the redirect (${(error as NodeJS.ErrnoException).code ?? "error"}); set redirect_port`,
    );
  });
  try {
    let authorizationUrl: URL | undefined;
    const provider = new StoreProvider({
      settings,
      store,
      redirectPort: callback.port,
      freshLogin: true,
      onRedirect: (url) => {
        authorizationUrl = url;
        options.printUrl(url.href);
      },
    });
    callback.expectState(() => provider.expectedState);
    const fetchFn = remoteFetch(transport.tls);
    const held = store.read();
    const pending = held.pending && !held.pending.done ? held.pending : undefined;
    let scope: string | undefined;
    let resourceMetadataUrl: URL | undefined;
    /** A 2025-03-26 server with a same-origin issuer (see legacy-issuer.ts): the issuer check is relaxed. */
    let legacy = false;

    if (pending) {
      // The proxy met a step-up it could not do alone: ask for what is held plus what the server wants, and
      // authorize afresh (a refresh cannot widen scope).
      scope = computeScopeUnion(held.tokens?.scope, pending.scope);
      resourceMetadataUrl = pending.resourceMetadataUrl ? new URL(pending.resourceMetadataUrl) : undefined;
      options.tell(`the server wants more scope (${scope ?? "unspecified"}): authorizing again`);
      const result = await authorize(() =>
        auth(provider, {
          serverUrl: transport.url,
          ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
          ...(scope ? { scope } : {}),
          forceReauthorization: true,
          fetchFn,
        }),
      );
      if (result !== "REDIRECT") throw new LoginError("the authorization server granted no new authorization");
    } else {
      // Connect without a token: the server's 401 challenge drives discovery, and the SDK asks for a redirect.
      for (;;) {
        try {
          const tools = await verify(options, provider, legacy);
          options.tell(`${describeTransport(transport)} answered without a login; nothing to store`);
          return { tools, loggedIn: false };
        } catch (error) {
          if (!authorizationUrl && !legacy && (await isLegacySameOriginIssuer(error, transport.url, fetchFn))) {
            legacy = true;
            options.tell("a 2025-03-26 server whose authorization server names a same-origin issuer; accepted");
            continue;
          }
          if (!authorizationUrl) throw asLoginError(error);
          if (!(error instanceof UnauthorizedError) && !isUnauthorizedCause(error)) throw asLoginError(error);
          break;
        }
      }
      scope = authorizationUrl.searchParams.get("scope") ?? undefined;
      const discovered = provider.discoveryState()?.resourceMetadataUrl;
      resourceMetadataUrl = discovered ? new URL(discovered) : undefined;
    }
    if (!authorizationUrl) throw new LoginError("the SDK asked for no authorization");
    let current = provider;
    for (let round = 1; ; round++) {
      options.tell(
        `open the URL above in a browser; waiting up to ${Math.round(options.timeoutMs / 1000)} s for the redirect to ${current.redirectUrl}`,
      );
      const answer = await authorize(() => callback.wait(options.timeoutMs));
      await exchange(answer, current, {
        serverUrl: transport.url,
        ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
        ...(scope ? { scope } : {}),
        fetchFn,
        legacy,
      });
      if (round === 1) {
        store.update((content) => {
          const next = { ...content };
          if (pending) next.pending = { attempts: pending.attempts + 1, done: true };
          else delete next.pending;
          return next;
        });
      }
      // The proof: a new connection with the stored token lists the tools. A server whose authorization server
      // changed meanwhile asks for one more login there: its URL is printed on the next line.
      let again: URL | undefined;
      const verifier = new StoreProvider({
        settings,
        store,
        redirectPort: callback.port,
        onRedirect: (url) => {
          // No URL is printed that this run will not wait for.
          if (round >= MAX_LOGIN_ROUNDS) throw new LoginError("the server refused the new token");
          again = url;
          options.printUrl(url.href);
        },
      });
      callback.expectState(() => verifier.expectedState);
      try {
        const tools = await verify(options, verifier, legacy);
        const granted = store.read().tokens?.scope;
        return { tools, loggedIn: true, ...(granted ? { scope: granted } : {}) };
      } catch (error) {
        if (!again || round >= MAX_LOGIN_ROUNDS)
          throw asLoginError(again ? new LoginError("the server refused the new token") : error);
        options.tell("the server asks for another login (its authorization server changed?)");
        current = verifier;
        scope = again.searchParams.get("scope") ?? undefined;
        const rediscovered = verifier.discoveryState()?.resourceMetadataUrl;
        resourceMetadataUrl = rediscovered ? new URL(rediscovered) : undefined;
      }
    }
  } finally {
    await callback.close();
  }
}

/** Runs one `auth()` step, turning its failures into LoginErrors. */
async function authorize<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw asLoginError(error);
  }
}

async function exchange(
  answer: CallbackResult,
  provider: StoreProvider,
  options: {
    serverUrl: string;
    resourceMetadataUrl?: URL;
    scope?: string;
    fetchFn: Parameters<typeof auth>[1]["fetchFn"];
    legacy: boolean;
  },
): Promise<void> {
  const { params } = answer;
  const iss = params.get("iss") ?? undefined;
  if (answer.kind === "error") {
    // RFC 9207: an error from another issuer may be an attacker's text: check the issuer before showing anything.
    const expected = provider.discoveryState()?.authorizationServerMetadata?.issuer;
    if (iss !== undefined && expected !== undefined && iss.replace(/\/$/, "") !== expected.replace(/\/$/, "")) {
      throw new LoginError("the authorization answer names another issuer than the one asked (a mix-up?); refused");
    }
    const code = (params.get("error") ?? "no code").replace(/[^\w.-]/g, "").slice(0, 64);
    const said = params.get("error_description");
    throw new LoginError(
      `the authorization server refused: ${code}${said ? ` (${redactText(said.replace(/[^\x20-\x7e]/g, "").slice(0, 200))})` : ""}`,
    );
  }
  const { legacy, ...rest } = options;
  const result = await authorize(() =>
    auth(provider, {
      ...rest,
      authorizationCode: params.get("code")!,
      ...(iss === undefined ? {} : { iss }),
      ...(legacy ? { skipIssuerMetadataValidation: true } : {}),
    }),
  );
  if (result !== "AUTHORIZED") throw new LoginError("the code exchange did not give a token");
}

/** Connects with `provider` (as the proxy does) and lists the tools; closes again. */
async function verify(options: LoginOptions, provider: OAuthClientProvider, legacy = false): Promise<number> {
  const lifetime = new AbortController();
  let client: Client | undefined;
  try {
    const dialed = await dial({
      server: options.server,
      baseEnv: {},
      clientInfo: options.clientInfo,
      onStderrLine: () => undefined,
      lifetime: lifetime.signal,
      onClose: () => undefined,
      onError: () => undefined,
      onAttempt: () => undefined,
      prior: undefined,
      inputs: new InputBroker("decline"),
      authProvider: provider,
      ...(legacy ? { skipIssuerMetadataValidation: true } : {}),
    });
    client = dialed.client;
    return dialed.tools.length;
  } finally {
    lifetime.abort();
    await client?.close().catch(() => undefined);
  }
}

function isUnauthorizedCause(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof UnauthorizedError) return true;
  }
  return false;
}

/** A failure as a human may read it: OAuth error codes and our own messages, never a token or a server's free text. */
function asLoginError(error: unknown): LoginError {
  if (error instanceof LoginError) return error;
  if (error instanceof CallbackError) return new LoginError(error.message);
  if (error instanceof IssuerMismatchError) {
    // The metadata kind quotes the discovery URL and the server's issuer (ours to show); the callback kind quotes
    // what may be an attacker's value, so nothing of it is shown.
    return new LoginError(
      error.kind === "metadata"
        ? `the authorization server's metadata names another issuer than the URL it was fetched for (RFC 8414 §3.3): ${error.message}`
        : "the authorization answer names another issuer than the one asked (a mix-up?); refused",
    );
  }
  if (error instanceof OAuthError) {
    return new LoginError(`the authorization server refused: ${error.code}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LoginError(redactText(message));
}
