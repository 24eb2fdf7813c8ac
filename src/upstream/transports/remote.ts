import { readFileSync } from "node:fs";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike, Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { Agent, fetch as undiciFetch } from "undici";
import type { UpstreamTls } from "../../config/schema.js";

export interface RemoteTransportOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  tls?: UpstreamTls;
}

/** Legacy HTTP+SSE (GET /sse, POST /message). Headers go on the event stream and on every POST. */
export function createSseTransport(options: RemoteTransportOptions): Transport {
  const fetch = tlsFetch(options.tls);
  return new SSEClientTransport(new URL(options.url), {
    requestInit: { headers: { ...options.headers } },
    ...(fetch ? { fetch } : {}),
  });
}

/** Streamable HTTP (one endpoint, POST + optional GET stream). */
export function createStreamableHttpTransport(options: RemoteTransportOptions): Transport {
  const fetch = tlsFetch(options.tls);
  return new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { ...options.headers } },
    ...(fetch ? { fetch } : {}),
  });
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
