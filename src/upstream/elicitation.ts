import { AsyncLocalStorage } from "node:async_hooks";
import type { ElicitRequest, ElicitResult } from "@modelcontextprotocol/client";
import type { ElicitationPolicy } from "../config/schema.js";

/** A request for input the policy could not satisfy, kept for the call it belongs to. */
export interface UnsatisfiedInput {
  /** Why we could not answer it: `url` mode, required fields without defaults, or the `decline` policy. */
  reason: string;
  /** The server's own words to the user. */
  message: string;
  /** For URL mode: where the user should go. */
  url?: string;
}

/** One tool call, as far as input requests are concerned. */
export interface CallInputs {
  unsatisfied?: UnsatisfiedInput;
}

/**
 * Answers a server's requests for user input (elicitation) on behalf of REST
 * callers, who cannot be asked: by the policy `defaults` a form is accepted
 * with its schema's defaults when every required field has one, anything else
 * is declined. What was declined is remembered for the call that caused it,
 * so that call can answer 409 instead of passing on whatever the server made
 * of the refusal.
 *
 * Which call a request belongs to: on 2026-07-28 the SDK fulfils input
 * requests inside `callTool()`, and on Streamable HTTP a 2025 request comes on
 * the call's own response stream, so the handler runs in the call's async
 * context. On 2025 stdio nothing ties the request to a call: it is put on the
 * call only when that call is the one in flight.
 */
export class InputBroker {
  readonly #context = new AsyncLocalStorage<CallInputs>();
  readonly #inFlight = new Set<CallInputs>();

  constructor(private readonly policy: ElicitationPolicy) {}

  /**
   * Runs one call with its own record of input requests. `inContext`: whether the server's requests can arrive in
   * the call's async context at all. When they cannot (2025 stdio), the call is not run inside the
   * AsyncLocalStorage: once one is used, Node runs promise hooks on every promise of the process (measured: about
   * 27 µs a call on the tool path).
   */
  async track<T>(inputs: CallInputs, inContext: boolean, run: () => Promise<T>): Promise<T> {
    this.#inFlight.add(inputs);
    try {
      return await (inContext ? this.#context.run(inputs, run) : run());
    } finally {
      this.#inFlight.delete(inputs);
    }
  }

  /** The `elicitation/create` handler. */
  answer(request: ElicitRequest): ElicitResult {
    const params = request.params;
    const decision = decide(this.policy, params);
    if (decision.action === "accept") return decision;
    const call = this.#context.getStore() ?? (this.#inFlight.size === 1 ? [...this.#inFlight][0] : undefined);
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
