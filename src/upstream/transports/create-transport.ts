import type { OAuthClientProvider, Transport } from "@modelcontextprotocol/client";
import type { TransportConfig } from "../../config/schema.js";
import type { Logger } from "../../log/logger.js";
import { createSseTransport, createStreamableHttpTransport } from "./remote.js";
import { ProcessGroupStdioTransport } from "./stdio.js";

export interface TransportContext {
  /** Environment a stdio server inherits before its own values. */
  baseEnv: Readonly<Record<string, string>>;
  onStderrLine: (line: string) => void;
  /** The server's logger: a stdio transport reports what it drops there. */
  log?: Logger;
  /** OAuth to a remote upstream. */
  authProvider?: OAuthClientProvider;
  /** See oauth/legacy-issuer.ts. */
  skipIssuerMetadataValidation?: boolean;
}

/** Picks and builds the SDK transport for one upstream. */
export function createTransport(config: TransportConfig, context: TransportContext): Transport {
  switch (config.type) {
    case "stdio":
      return new ProcessGroupStdioTransport({
        command: config.command,
        args: config.args,
        env: { ...context.baseEnv, ...config.env },
        ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
        onStderrLine: context.onStderrLine,
        ...(context.log ? { log: context.log } : {}),
      });
    case "sse":
      return createSseTransport({ ...config, ...oauthOf(context) });
    case "streamable-http":
      return createStreamableHttpTransport({ ...config, ...oauthOf(context) });
  }
}

function oauthOf(context: TransportContext): Pick<TransportContext, "authProvider" | "skipIssuerMetadataValidation"> {
  if (!context.authProvider) return {};
  return {
    authProvider: context.authProvider,
    ...(context.skipIssuerMetadataValidation ? { skipIssuerMetadataValidation: true } : {}),
  };
}

/**
 * How an upstream is named in logs and health: never with secrets, so no
 * arguments, env, headers, URL credentials or query string.
 */
export function describeTransport(config: TransportConfig): string {
  if (config.type === "stdio") return `stdio-${config.command}`;
  const url = new URL(config.url);
  const prefix = config.type === "sse" ? "SSE" : "StreamableHTTP";
  return `${prefix}-${url.protocol}//${url.host}${url.pathname}`;
}
