import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { AbortError } from "p-retry";
import type { ServerConfig } from "../config/schema.js";
import { listAllTools } from "./list-tools.js";
import { createTransport } from "./transports/create-transport.js";

export interface DialOptions {
  server: ServerConfig;
  baseEnv: Readonly<Record<string, string>>;
  clientInfo: { name: string; version: string };
  onStderrLine: (line: string) => void;
  /** Ends the attempt early when the connection is closed for good. */
  lifetime: AbortSignal;
  /** Wired before connecting, so no close or error is missed. */
  onClose: (client: Client, transport: Transport) => void;
  onError: (client: Client, transport: Transport, error: Error) => void;
  /** The attempt's client, as soon as it exists (so close() can end an attempt in progress). */
  onAttempt: (client: Client | undefined) => void;
}

export interface Dialed {
  client: Client;
  transport: Transport;
  tools: Tool[];
  /** Tools that did not match the MCP schema (see listAllTools). */
  warnings: string[];
}

/**
 * One connection attempt: transport, client, `initialize` and the full tool
 * list, all within the connection timeout. A failed attempt leaves nothing
 * open behind it.
 */
export async function dial(options: DialOptions): Promise<Dialed> {
  const timeoutMs = options.server.settings.connectionTimeoutMs;
  const transport = createTransport(options.server.transport, {
    baseEnv: options.baseEnv,
    onStderrLine: options.onStderrLine,
  });
  const client = new Client(options.clientInfo, { capabilities: {} });
  client.onerror = (error) => options.onError(client, transport, error);
  client.onclose = () => options.onClose(client, transport);
  options.onAttempt(client);
  // The attempt's deadline: the connection timeout, or the connection closing for good (no AbortSignal.any,
  // so Node 20.0 to 20.2 work too).
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(new DOMException("connection timeout", "TimeoutError")), timeoutMs);
  const onClosed = (): void => bound.abort(options.lifetime.reason);
  if (options.lifetime.aborted) onClosed();
  else options.lifetime.addEventListener("abort", onClosed, { once: true });
  const deadline = bound.signal;
  try {
    // connect() bounds only `initialize`; dialing (SSE's GET, a spawn) is bounded by the race.
    await raceSignal(client.connect(transport, { timeout: timeoutMs, signal: deadline }), deadline, timeoutMs);
    const { tools, warnings } = await raceSignal(
      listAllTools(client, { timeout: timeoutMs, signal: deadline }),
      deadline,
      timeoutMs,
    );
    if (options.lifetime.aborted) throw new AbortError("closed while connecting");
    return { client, transport, tools, warnings };
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
    options.lifetime.removeEventListener("abort", onClosed);
    options.onAttempt(undefined);
  }
}

/** Rejects when `signal` aborts, so a dial that never answers still ends. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(
        reason instanceof DOMException && reason.name === "TimeoutError"
          ? new Error(`no answer within the connection timeout of ${timeoutMs / 1000} s`)
          : new AbortError("closed while connecting"),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
