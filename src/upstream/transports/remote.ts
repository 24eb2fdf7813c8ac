import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

export interface RemoteTransportOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
}

/** Legacy HTTP+SSE (GET /sse, POST /message). Headers go on the event stream and on every POST. */
export function createSseTransport(options: RemoteTransportOptions): Transport {
  return new SSEClientTransport(new URL(options.url), { requestInit: { headers: { ...options.headers } } });
}

/** Streamable HTTP (one endpoint, POST + optional GET stream). */
export function createStreamableHttpTransport(options: RemoteTransportOptions): Transport {
  return new StreamableHTTPClientTransport(new URL(options.url), { requestInit: { headers: { ...options.headers } } });
}
