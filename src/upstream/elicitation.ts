import { AsyncLocalStorage } from "node:async_hooks";
import {
  ProtocolError,
  ProtocolErrorCode,
  type CreateMessageRequest,
  type CreateMessageResult,
  type CreateMessageResultWithTools,
  type ElicitRequest,
  type ElicitResult,
  type ListRootsRequest,
  type ListRootsResult,
  type RequestId,
  type Transport,
} from "@modelcontextprotocol/client";
import type { ElicitationPolicy } from "../config/schema.js";

/**
 * A request an upstream server sends to its client (us) while it works: ask the user (elicitation), ask a model
 * (sampling), or ask for the client's roots. On 2025 connections it is a JSON-RPC request; on 2026-07-28 it is an
 * entry of an `input_required` result, which the SDK hands to the same handlers inside `callTool()`.
 */
export type ServerRequest =
  | { readonly method: "elicitation/create"; readonly params: ElicitRequest["params"] }
  | { readonly method: "sampling/createMessage"; readonly params: CreateMessageRequest["params"] }
  | { readonly method: "roots/list"; readonly params?: ListRootsRequest["params"] };

export type ServerRequestMethod = ServerRequest["method"];

/** What answers a ServerRequest, by its method: an ElicitResult, a CreateMessageResult or a ListRootsResult. */
export type ServerRequestResult = ElicitResult | CreateMessageResult | CreateMessageResultWithTools | ListRootsResult;

/**
 * Answers the upstream's requests that belong to one call (CallOptions.onServerRequest), e.g. by asking the MCP
 * client that made the call. `signal` aborts when the answer is no longer wanted: the upstream cancelled the request,
 * the connection closed, or (2026-07-28) the call ended. The answer goes back upstream as is (the SDK checks it
 * against the method's result schema); a rejection goes back as an MCP error (a ProtocolError keeps its code; on
 * 2026-07-28, where an input request has no error reply, the call fails with it instead). Resolving with `undefined`
 * leaves the request to the proxy's own answer, as if there were no handler: for a method whose capability the
 * caller's client did not declare.
 */
export type ServerRequestHandler = (
  request: ServerRequest,
  signal: AbortSignal,
) => Promise<ServerRequestResult | undefined>;

/** A request for input the policy could not satisfy, kept for the call it belongs to. */
export interface UnsatisfiedInput {
  /** Why we could not answer it: `url` mode, required fields without defaults, or the `decline` policy. */
  reason: string;
  /** The server's own words to the user. */
  message: string;
  /** For URL mode: where the user should go. */
  url?: string;
}

/** One tool call, as far as the server's requests are concerned. */
export interface CallInputs {
  unsatisfied?: UnsatisfiedInput;
  /** Who answers the requests that belong to this call (CallOptions.onServerRequest); absent: the proxy's policy. */
  readonly handler?: ServerRequestHandler;
}

/**
 * Answers a server's requests to its client. A request that belongs for certain to a call with a handler (an MCP
 * caller's) goes to that handler. Any other is answered on behalf of REST callers, who cannot be asked:
 * - elicitation, by the policy: `defaults` accepts a form with its schema's defaults when every required field has
 *   one, anything else is declined. What was declined is remembered for the call that caused it, so that call can
 *   answer 409 instead of passing on whatever the server made of the refusal;
 * - sampling, with an MCP error: the proxy has no model, and a REST caller cannot be asked for one (the call that
 *   caused it answers 409 too);
 * - roots, with an empty list: REST callers expose no roots (an error would contradict the capability we declare,
 *   and a server lists roots at start, outside any call).
 *
 * Which call a request belongs to: on 2026-07-28 the SDK fulfils input requests inside `callTool()` (on Streamable
 * HTTP in the call's async context; on stdio once deliverAnswersInCallContext puts them there), and on Streamable
 * HTTP a 2025 request comes on the call's own response stream, so the handler runs in the call's async context.
 * On 2025 stdio and legacy SSE nothing ties the request to a call: it is put on the call only when that call is the
 * one in flight (never a roots/list: see answer).
 */
export class InputBroker {
  readonly #context = new AsyncLocalStorage<CallInputs>();
  /** The calls in flight, each with whether it runs in the AsyncLocalStorage (see track). */
  readonly #inFlight = new Map<CallInputs, boolean>();

  constructor(private readonly policy: ElicitationPolicy) {}

  /**
   * Runs one call with its own record of input requests. `inContext`: whether the server's requests can arrive in
   * the call's async context at all. When they cannot (2025 stdio, legacy SSE), the call is not run inside the
   * AsyncLocalStorage: once one is used, Node runs promise hooks on every promise of the process (measured: about
   * 27 µs a call on the tool path).
   */
  async track<T>(inputs: CallInputs, inContext: boolean, run: () => Promise<T>): Promise<T> {
    this.#inFlight.set(inputs, inContext);
    try {
      return await (inContext ? this.#context.run(inputs, run) : run());
    } finally {
      this.#inFlight.delete(inputs);
    }
  }

  /**
   * For a 2026-07-28 connection whose messages arrive outside the calls' async contexts (stdio): an input request
   * comes inside the answer to one of the call's requests, and the SDK fulfils it from the delivery of that answer.
   * So each answer is delivered in the context of the call that sent its request (known by the JSON-RPC id, per
   * transport). An id is forgotten when its answer arrives or the request is cancelled (no answer follows).
   */
  deliverAnswersInCallContext(transport: Transport): void {
    const senders = new Map<RequestId, CallInputs>();
    const send = transport.send.bind(transport);
    // (Property checks, not the SDK's schema guards: every message of the connection passes here.)
    transport.send = (message, options) => {
      if ("method" in message) {
        const { id } = message as { id?: RequestId };
        const call = id === undefined ? undefined : this.#context.getStore();
        if (call) senders.set(id!, call);
        else if (message.method === "notifications/cancelled") {
          senders.delete((message.params as { requestId?: RequestId } | undefined)?.requestId ?? "");
        }
      }
      return send(message, options);
    };
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const { id } = message as { id?: RequestId | null };
      const call = "method" in message || id === undefined || id === null ? undefined : senders.get(id);
      if (call === undefined) return deliver?.(message, extra);
      senders.delete(id!);
      this.#context.run(call, () => deliver?.(message, extra));
    };
  }

  /** The handler of `elicitation/create`, `sampling/createMessage` and `roots/list`. */
  async answer(request: ServerRequest, signal: AbortSignal): Promise<ServerRequestResult> {
    const inContext = this.#context.getStore();
    const alone = inContext ? undefined : this.#alone();
    // A call in whose context the request did not arrive, though it could have, may not be its cause. Nor is a call
    // the cause of a roots/list just because it is alone in flight: servers ask for roots at start and on changes,
    // for the session, and a caller's roots must not become the session's by chance.
    const guessed = alone && !this.#inFlight.get(alone) && request.method !== "roots/list" ? alone : undefined;
    const owner = inContext ?? guessed;
    const answer = owner?.handler ? await owner.handler(request, signal) : undefined;
    if (answer !== undefined) return answer;
    switch (request.method) {
      case "elicitation/create":
        return this.#elicit(request.params, inContext ?? alone);
      case "sampling/createMessage":
        return this.#refuseSampling(inContext ?? alone);
      case "roots/list":
        return { roots: [] };
    }
  }

  /** The only call in flight, if exactly one is. */
  #alone(): CallInputs | undefined {
    if (this.#inFlight.size !== 1) return undefined;
    for (const call of this.#inFlight.keys()) return call;
    return undefined;
  }

  /**
   * No model to ask: the server is told so by an MCP error (on 2026-07-28, where an input request has no error reply,
   * the call ends with it), and the call answers 409 as for a form the policy declined, whatever the server made of
   * the refusal.
   */
  #refuseSampling(call: CallInputs | undefined): never {
    if (call && !call.unsatisfied) {
      call.unsatisfied = {
        reason: "no MCP client can answer sampling through the REST API",
        message: "the server asked the client's model for a completion (sampling/createMessage)",
      };
    }
    throw new ProtocolError(
      ProtocolErrorCode.MethodNotFound,
      "sampling/createMessage cannot be answered: the call came to the proxy (mcpo-ts) through its REST API, " +
        "which has no model to sample and no MCP client to ask",
    );
  }

  /** The elicitation policy, with what it declined kept for `call`. */
  #elicit(params: ElicitRequest["params"], call: CallInputs | undefined): ElicitResult {
    const decision = decide(this.policy, params);
    if (decision.action === "accept") return decision;
    if (call && !call.unsatisfied) {
      call.unsatisfied = {
        reason: decision.reason,
        message: params.message,
        ...(params.mode === "url" ? { url: params.url } : {}),
      };
    }
    return { action: "decline" };
  }
}

type Decision =
  | { action: "accept"; content: Record<string, string | number | boolean | string[]> }
  | { action: "decline"; reason: string };

/** The policy, applied to one request. */
export function decide(policy: ElicitationPolicy, params: ElicitRequest["params"]): Decision {
  if (params.mode === "url") return { action: "decline", reason: "it asks the user to open a URL" };
  if (policy === "decline") return { action: "decline", reason: "the elicitation policy is decline" };
  const properties = params.requestedSchema.properties;
  const content: Record<string, string | number | boolean | string[]> = {};
  for (const [name, field] of Object.entries(properties)) {
    const value = (field as { default?: unknown }).default;
    if (value !== undefined) content[name] = value as string | number | boolean | string[];
  }
  const missing = (params.requestedSchema.required ?? []).filter((name) => !(name in content));
  if (missing.length > 0) {
    return {
      action: "decline",
      reason: `required field${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ha${missing.length > 1 ? "ve" : "s"} no default`,
    };
  }
  return { action: "accept", content };
}
