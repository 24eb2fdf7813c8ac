import {
  Client,
  SdkError,
  SdkErrorCode,
  type ClientContext,
  type CreateMessageResult,
  type CreateMessageResultWithTools,
  type ElicitResult,
  type ListRootsResult,
  type McpSubscription,
  type OAuthClientProvider,
  type PriorDiscovery,
  type Tool,
  type Transport,
} from "@modelcontextprotocol/client";
import { AbortError } from "p-retry";
import type { ServerConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { activeTracer } from "../telemetry/tracing.js";
import { ServerExitedError } from "./classify-error.js";
import type { InputBroker, ServerRequest } from "./elicitation.js";
import { negotiationFor, type Era } from "./era.js";
import { listAllTools, type SkippedTool } from "./list-tools.js";
import { listChangedFilter, loadOfferings, NO_OFFERINGS, type Offerings } from "./offerings.js";
import { createTransport } from "./transports/create-transport.js";
import { traceRequests } from "./trace-requests.js";
import { ProcessGroupStdioTransport } from "./transports/stdio.js";

export interface DialOptions {
  server: ServerConfig;
  baseEnv: Readonly<Record<string, string>>;
  clientInfo: { name: string; version: string };
  onStderrLine: (line: string) => void;
  /** The server's logger (the stdio transport reports dropped lines there). */
  log?: Logger;
  /** Ends the attempt early when the connection is closed for good. */
  lifetime: AbortSignal;
  /** Wired before connecting, so no close or error is missed. */
  onClose: (client: Client, transport: Transport) => void;
  onError: (client: Client, transport: Transport, error: Error) => void;
  /** The attempt's client, as soon as it exists (so close() can end an attempt in progress). */
  onAttempt: (client: Client | undefined) => void;
  /** Whether to list resources and prompts (not for a caller's own session: the shared one documents them). */
  listOfferings?: boolean;
  /** The era an earlier connection found: connect in it without probing. */
  prior: PriorDiscovery | undefined;
  /** Answers the server's requests for input. */
  inputs: InputBroker;
  /** OAuth to a remote upstream (one provider for the connection's whole life, so its state carries over). */
  authProvider?: OAuthClientProvider;
  /** The 2025-03-26 same-origin issuer tolerance (see oauth/legacy-issuer.ts). */
  skipIssuerMetadataValidation?: boolean;
}

export interface Dialed {
  client: Client;
  transport: Transport;
  tools: Tool[];
  /** Tools that did not match the MCP schema, or were left out (see listAllTools). */
  warnings: string[];
  /** The tools left out, by name. */
  skipped: SkippedTool[];
  /** Resources and prompts, listed with the tools so that the first document has them. */
  offerings: Offerings;
  era: Era;
  /** The revision spoken, e.g. "2026-07-28" or "2025-11-25". */
  protocolVersion: string;
  /** What to connect with next time, so reconnects skip the probe. */
  verdict: PriorDiscovery;
  /** A 2026-07-28 server tells only listening clients that its tools changed: our listen stream, if opened. */
  subscription?: McpSubscription;
}

/**
 * One connection attempt: transport, client, era negotiation (`server/discover`
 * or `initialize`), the change subscription and the full tool list, all within
 * the connection timeout. A failed attempt leaves nothing open behind it.
 */
export async function dial(options: DialOptions): Promise<Dialed> {
  const { server } = options;
  const timeoutMs = server.settings.connectionTimeoutMs;
  // The attempt's deadline: the connection timeout, or the connection closing for good (no AbortSignal.any,
  // so Node 20.0 to 20.2 work too).
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(new DOMException("connection timeout", "TimeoutError")), timeoutMs);
  const onClosed = (): void => bound.abort(options.lifetime.reason);
  if (options.lifetime.aborted) onClosed();
  else options.lifetime.addEventListener("abort", onClosed, { once: true });
  const deadline = bound.signal;
  let attempt = open(options);
  try {
    try {
      // connect() bounds the probe and `initialize`; dialing (SSE's GET, a spawn) is bounded by the race.
      await raceSignal(attempt.client.connect(attempt.transport, connectOptions(options.prior)), deadline, timeoutMs);
    } catch (error) {
      if (!exitedOnProbe(error, attempt.transport, options)) throw error;
      // Some 2025 stdio servers (those built on Rust's rmcp) exit on any request before `initialize`: the probe
      // told us the era, so a fresh process is started and spoken to in it.
      await attempt.client.close().catch(() => undefined);
      attempt = open(options);
      await raceSignal(
        attempt.client.connect(attempt.transport, connectOptions({ kind: "legacy" })),
        deadline,
        timeoutMs,
      );
    }
    const { client, transport } = attempt;
    const era: Era = client.getProtocolEra() === "modern" ? "modern" : "legacy";
    if (era === "modern") completeByDefault(transport);
    // (On Streamable HTTP each answer is read in the context of the call that asked: see elicitation.ts.)
    if (era === "modern" && server.transport.type !== "streamable-http")
      options.inputs.deliverAnswersInCallContext(transport);
    const discover = client.getDiscoverResult();
    const filter = {
      ...(client.getServerCapabilities()?.tools?.listChanged ? { toolsListChanged: true } : {}),
      ...listChangedFilter(client),
    };
    const subscription =
      era === "modern" && Object.keys(filter).length > 0
        ? await raceSignal(client.listen(filter, { timeout: timeoutMs }), deadline, timeoutMs)
        : undefined;
    const { tools, warnings, skipped } = await raceSignal(
      listAllTools(client, {
        timeout: timeoutMs,
        signal: deadline,
        checkHeaderAnnotations: era === "modern" && server.transport.type === "streamable-http",
      }),
      deadline,
      timeoutMs,
    );
    const offerings =
      options.listOfferings === false
        ? NO_OFFERINGS
        : await loadOfferings(client, { timeout: timeoutMs, signal: deadline }, options.log);
    if (options.lifetime.aborted) throw new AbortError("closed while connecting");
    const tracer = activeTracer();
    if (tracer) {
      traceRequests(tracer, transport, {
        server: server.name,
        networkTransport: server.transport.type === "stdio" ? "pipe" : "tcp",
        protocolVersion: client.getNegotiatedProtocolVersion() ?? "unknown",
      });
    }
    return {
      offerings,
      client,
      transport,
      tools,
      warnings,
      skipped,
      era,
      protocolVersion: client.getNegotiatedProtocolVersion() ?? "unknown",
      verdict: era === "modern" && discover ? { kind: "modern", discover } : { kind: "legacy" },
      ...(subscription ? { subscription } : {}),
    };
  } catch (error) {
    // A stdio server that exited says how (read before close() ends the group): "exited with code 3".
    const exit = attempt.transport instanceof ProcessGroupStdioTransport ? attempt.transport.exitDescription : "";
    await attempt.client.close().catch(() => undefined);
    throw exit && !(error instanceof AbortError) ? new ServerExitedError(exit, error) : error;
  } finally {
    clearTimeout(timer);
    options.lifetime.removeEventListener("abort", onClosed);
    options.onAttempt(undefined);
  }

  function connectOptions(prior: PriorDiscovery | undefined): Parameters<Client["connect"]>[1] {
    return { timeout: timeoutMs, signal: deadline, ...(prior ? { prior } : {}) };
  }
}

/** A transport and a client for it, wired to the connection before anything is sent. */
function open(options: DialOptions): { client: Client; transport: Transport } {
  const transport = createTransport(options.server.transport, {
    baseEnv: options.baseEnv,
    onStderrLine: options.onStderrLine,
    ...(options.log ? { log: options.log } : {}),
    ...(options.authProvider ? { authProvider: options.authProvider } : {}),
    ...(options.skipIssuerMetadataValidation ? { skipIssuerMetadataValidation: true } : {}),
  });
  const client = new Client(options.clientInfo, {
    // What a server may ask of us: each request goes to the MCP caller of the call it belongs to, or is answered
    // for REST callers (elicitation.ts). Form-mode elicitation only; sampling without tools or context; roots that
    // never change (there is no list to change: a caller's roots are asked for afresh).
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
    versionNegotiation: negotiationFor(options.server.settings),
  });
  // Only the method and params are handed on (not the JSON-RPC id, which is ours with this server). The SDK checks
  // each answer against its method's result schema: the casts only name which one it is.
  // On 2026-07-28 the id is the key of the request in the server's `input_required` result: passed on (ServerRequest.key).
  const answer = <R>({ method, params }: ServerRequest, ctx: ClientContext): Promise<R> =>
    options.inputs.answer(
      {
        method,
        ...(params === undefined ? {} : { params }),
        ...(client.getProtocolEra() === "modern" ? { key: String(ctx.mcpReq.id) } : {}),
      } as ServerRequest,
      ctx.mcpReq.signal,
    ) as Promise<R>;
  client.setRequestHandler("elicitation/create", (request, ctx) => answer<ElicitResult>(request, ctx));
  client.setRequestHandler("sampling/createMessage", (request, ctx) =>
    answer<CreateMessageResult | CreateMessageResultWithTools>(request, ctx),
  );
  client.setRequestHandler("roots/list", (request, ctx) => answer<ListRootsResult>(request, ctx));
  client.onerror = (error) => options.onError(client, transport, error);
  client.onclose = () => options.onClose(client, transport);
  options.onAttempt(client);
  return { client, transport };
}

/**
 * A 2026-07-28 result without `resultType` is complete: the official conformance suite
 * (sep-2322-client-request-state) requires clients to read it so, while the SDK (2.4) rejects such a result as
 * invalid. Every answer the server sends after connecting passes here first (one property check).
 */
function completeByDefault(transport: Transport): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ("result" in message) {
      const result = message.result as Record<string, unknown>;
      if (typeof result === "object" && result !== null && result.resultType === undefined)
        result.resultType = "complete";
    }
    deliver?.(message, extra);
  };
}

/** The stdio server died on the `server/discover` probe (in `auto`): it is a 2025 server. */
function exitedOnProbe(error: unknown, transport: Transport, options: DialOptions): boolean {
  return (
    error instanceof SdkError &&
    error.code === SdkErrorCode.EraNegotiationFailed &&
    options.prior === undefined &&
    options.server.settings.protocol === "auto" &&
    transport instanceof ProcessGroupStdioTransport &&
    transport.exitDescription !== ""
  );
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
