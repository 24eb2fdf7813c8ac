import {
  Client,
  StreamableHTTPClientTransport,
  type ClientOptions,
  type Transport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

/** Where an upstream is: a stdio command line, or a Streamable HTTP URL. */
export type V2Upstream = { stdio: readonly string[] } | { url: string };

/** A v2 SDK transport to the upstream (stdio children's stderr is discarded). */
export function v2Transport(upstream: V2Upstream): Transport {
  if ("url" in upstream) return new StreamableHTTPClientTransport(new URL(upstream.url));
  const [command, ...args] = upstream.stdio;
  return new StdioClientTransport({ command: command!, args, stderr: "ignore" });
}

/**
 * Connects a v2 SDK client. `auto` probes `server/discover` and falls back to
 * 2025; `legacy` (the SDK's default) sends a 2025 `initialize` only.
 */
export async function connectV2(
  transport: Transport,
  mode: "auto" | "legacy",
  options: Omit<ClientOptions, "versionNegotiation"> = {},
): Promise<Client> {
  // The probe's timeout defaults to the request timeout (60 s); a few seconds are plenty here.
  const client = new Client(
    { name: "mcpo-ts-test", version: "0" },
    { ...options, versionNegotiation: { mode, probe: { timeoutMs: 5_000 } } },
  );
  await client.connect(transport);
  return client;
}
