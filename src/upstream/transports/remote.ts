import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import {
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type FetchLike,
  type OAuthClientProvider,
  type Transport,
} from "@modelcontextprotocol/client";
import { Agent, fetch as undiciFetch } from "undici";
import type { UpstreamTls } from "../../config/schema.js";
import { rescuingFetch } from "../unreadable-reply.js";
import { exactRequestBody } from "./wire-json.js";

export interface RemoteTransportOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  tls?: UpstreamTls;
  /** OAuth (src/upstream/oauth): discovery, registration, tokens, refresh and step-up are the SDK's. */
  authProvider?: OAuthClientProvider;
  /** The 2025-03-26 same-origin issuer tolerance (see oauth/legacy-issuer.ts); only with an authProvider. */
  skipIssuerMetadataValidation?: boolean;
}

/** Legacy HTTP+SSE (GET /sse, POST /message). Headers go on the event stream and on every POST. */
export function createSseTransport(options: RemoteTransportOptions): Transport {
  return new SSEClientTransport(new URL(options.url), {
    requestInit: { headers: { ...options.headers } },
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
    ...(options.skipIssuerMetadataValidation ? { skipIssuerMetadataValidation: true } : {}),
    fetch: rescuingFetch(unlimitedSignalFetch(tlsFetch(options.tls) ?? fetch)),
  });
}

/** Streamable HTTP (one endpoint, POST + optional GET stream). */
export function createStreamableHttpTransport(options: RemoteTransportOptions): Transport {
  return new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { ...options.headers } },
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
    ...(options.skipIssuerMetadataValidation ? { skipIssuerMetadataValidation: true } : {}),
    fetch: rescuingFetch(unlimitedSignalFetch(tlsFetch(options.tls) ?? fetch)),
  });
}

/** The fetch the transports use for one upstream (its TLS settings), for OAuth requests made outside a transport. */
export function remoteFetch(tls: UpstreamTls | undefined): FetchLike {
  return rescuingFetch(unlimitedSignalFetch(tlsFetch(tls) ?? fetch));
}

/**
 * The SDK gives every request of a transport the same AbortSignal, and
 * undici adds an abort listener to it per request that goes only when the
 * request is garbage collected. Under load thousands pile up and Node prints
 * a MaxListenersExceededWarning per request past undici's limit of 1500 (a
 * flood of non-JSON lines on stderr). The listeners are bounded by GC, so the
 * limit is lifted on that signal (before undici would set its own).
 */
function unlimitedSignalFetch(base: FetchLike): FetchLike {
  return (url, init) => {
    if (init?.signal) setMaxListeners(0, init.signal);
    // Integers beyond 2^53 in a caller's body leave as their digits (src/json/exact-integers.ts).
    const body = exactRequestBody(init?.body);
    return base(url, body === init?.body ? init : { ...init, body });
  };
}

/**
 * A fetch with the server's TLS settings (custom CA, client certificate,
 * verification off), for both the POSTs and the event stream. Node's global
 * fetch takes no TLS options; undici's Agent is how its own fetch takes them.
 */
function tlsFetch(tls: UpstreamTls | undefined): FetchLike | undefined {
  if (!tls) return undefined;
  const dispatcher = new Agent({
    connect: {
      rejectUnauthorized: tls.verify,
      ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}),
      ...(tls.certPath ? { cert: readFileSync(tls.certPath) } : {}),
      ...(tls.keyPath ? { key: readFileSync(tls.keyPath) } : {}),
    },
  });
  type UndiciInit = NonNullable<Parameters<typeof undiciFetch>[1]>;
  const fetchWithTls = (url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as UndiciInit), dispatcher });
  // undici's Response is the WHATWG Response the SDK expects; only the type packages differ.
  return fetchWithTls as unknown as FetchLike;
}
