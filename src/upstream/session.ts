import type { Client, McpSubscription, Transport } from "@modelcontextprotocol/client";
import type { ConnectionSettings } from "../config/schema.js";
import type { Era } from "./era.js";
import { SilenceWatch } from "./silence-watch.js";

/** One established connection: the SDK client and what watches it. */
export interface Session {
  readonly client: Client;
  readonly era: Era;
  /**
   * Whether a server's request for input runs in the async context of the call it belongs to (2026-07-28, where the
   * SDK fulfils it inside callTool; 2025 Streamable HTTP, where it comes on the call's own response stream). On
   * 2025 stdio and legacy SSE (one stream for everything) it never does (see elicitation.ts).
   */
  readonly inputsInCallContext: boolean;
  /** The 2026-07-28 change stream, when the upstream offers one. */
  readonly subscription?: McpSubscription;
  readonly watch?: SilenceWatch;
  readonly activeCheck?: NodeJS.Timeout;
}

export interface SessionOptions {
  client: Client;
  transport: Transport;
  settings: ConnectionSettings;
  /** Remote upstreams can go silent without closing; stdio ones close when they die. */
  remote: boolean;
  /** Streamable HTTP: the server's messages about a request come on that request's own response stream. */
  callStreams: boolean;
  /** Nothing heard for sse_read_timeout while calls wait: check the upstream. */
  onSilent: () => Promise<void>;
  /** Every health_check_interval, when set. */
  onActiveCheck: () => void;
  era: Era;
  subscription?: McpSubscription;
}

/** Starts watching a new connection: silence (remote upstreams) and optional active health checks. */
export function openSession(options: SessionOptions): Session {
  const { client, transport, settings } = options;
  const watch = options.remote ? new SilenceWatch(settings.sseReadTimeoutMs, options.onSilent) : undefined;
  if (watch) {
    // Everything the upstream sends (answers, progress, pings) proves it is there.
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      watch.heard();
      deliver?.(message, extra);
    };
  }
  let activeCheck: NodeJS.Timeout | undefined;
  if (settings.healthCheckIntervalMs > 0) {
    activeCheck = setInterval(options.onActiveCheck, settings.healthCheckIntervalMs);
    activeCheck.unref();
  }
  return {
    client,
    era: options.era,
    inputsInCallContext: options.era === "modern" || options.callStreams,
    ...(options.subscription ? { subscription: options.subscription } : {}),
    ...(watch ? { watch } : {}),
    ...(activeCheck ? { activeCheck } : {}),
  };
}

export function endSession(session: Session): void {
  session.watch?.stop();
  clearInterval(session.activeCheck);
}
