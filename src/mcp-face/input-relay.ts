import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  inputRequired,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ClientCapabilities,
  type InputRequest,
  type InputRequiredResult,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ServerRequest, ServerRequestHandler, ServerRequestResult } from "../upstream/index.js";
import { ownerOf } from "./sessions.js";

/** A request of the upstream's waiting for the MCP client's answer. */
interface Waiting {
  readonly request: ServerRequest;
  readonly resolve: (result: ServerRequestResult) => void;
}

type Step<T> = { done: true; result: T } | { done: false; requests: Record<string, InputRequest> };

/** What the upstream call of a relayed request is given: see InputRelay.round. */
export interface RoundHooks {
  /** Answers the upstream's requests to its client that belong to this call. */
  readonly onServerRequest: ServerRequestHandler;
  /** The call's controller: aborted when the client cancels, or stops answering between rounds. */
  readonly controller: AbortController;
  /** The current round's context: where the call's progress and logs go (each round is a request of its own). */
  readonly ctx: () => ServerContext;
}

/** One call, from its first round to its end: it outlives the rounds in which it asked the client for something. */
class Exchange<T> {
  /** Digest of the caller who started it (ownerOf), taken when it first asks the client for something. */
  owner: Buffer | undefined;
  readonly controller = new AbortController();
  outcome: Promise<T> | undefined;
  /** Its requestState, minted when it first asks the client for something. */
  token: string | undefined;
  /** The current round's context: where progress and logs of the call go. */
  ctx: ServerContext;
  readonly #waiting = new Map<string, Waiting>();
  #next = 0;
  #wake: (() => void) | undefined;
  #expiry: NodeJS.Timeout | undefined;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
  }

  /** The upstream asked: the request waits for the client's answer in a later round. */
  ask(request: ServerRequest, signal: AbortSignal): Promise<ServerRequestResult> {
    // The upstream's own name for it when it gave one (2026-07-28), so the client answers under that name.
    const key = request.key !== undefined && !this.#waiting.has(request.key) ? request.key : `mcpo-${++this.#next}`;
    return new Promise<ServerRequestResult>((resolve, reject) => {
      this.#waiting.set(key, { request, resolve });
      signal.addEventListener(
        "abort",
        () => {
          this.#waiting.delete(key);
          reject(signal.reason instanceof Error ? signal.reason : new Error("the upstream withdrew its request"));
        },
        { once: true },
      );
      this.#wake?.();
    });
  }

  /** A retried round's answers, by the keys we gave the requests; an unanswered one is asked again. */
  answer(responses: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(responses)) {
      const waiting = this.#waiting.get(key);
      if (!waiting || typeof value !== "object" || value === null) continue;
      this.#waiting.delete(key);
      waiting.resolve(value as ServerRequestResult);
    }
  }

  /**
   * Waits for the call's end, or for requests to pass to the client (all of them still unanswered); rejects when the
   * round's client cancels it (`signal`).
   */
  async step(signal: AbortSignal): Promise<Step<T>> {
    const outcome = this.outcome!;
    for (;;) {
      if (this.#waiting.size > 0) {
        // Requests sent together (one input_required of a 2026 upstream) go to the client in one round.
        await new Promise((resolve) => setImmediate(resolve));
        const requests: Record<string, InputRequest> = {};
        for (const [key, { request }] of this.#waiting) requests[key] = inputRequestOf(request);
        return { done: false, requests };
      }
      let cancel: (() => void) | undefined;
      try {
        const ended = await new Promise<{ result: T } | undefined>((resolve, reject) => {
          this.#wake = () => resolve(undefined);
          outcome.then((result) => resolve({ result }), reject);
          cancel = () => reject(new ProtocolError(ProtocolErrorCode.InternalError, "The request was cancelled"));
          if (signal.aborted) cancel();
          else signal.addEventListener("abort", cancel, { once: true });
        });
        if (ended) return { done: true, result: ended.result };
      } finally {
        this.#wake = undefined;
        if (cancel) signal.removeEventListener("abort", cancel);
      }
    }
  }

  /** Between rounds the call waits for the client at most `ms`; then it is cancelled upstream. */
  expireIn(ms: number, expire: () => void): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(expire, ms);
    this.#expiry.unref();
  }

  stopExpiry(): void {
    clearTimeout(this.#expiry);
  }
}

/**
 * Passes an upstream's requests to its client (elicitation, sampling, roots) that belong to a call on to the MCP
 * client that made the call, when that client declared the capability (otherwise the proxy answers as for a REST
 * caller: the upstream layer's policy). The face answers with `input_required` (the 2026-07-28 multi-round-trip
 * shape) naming the requests and an opaque `requestState`; the client answers and retries the call with it, and the
 * upstream call, still running, gets the answers. On a 2025 session the SDK turns the same result into requests
 * pushed to the client and retries the handler itself, so both eras share this one path.
 *
 * `requestState` is a random id of an exchange kept here (nothing of the call travels in it), bound to the digest
 * of the credentials that started it; an unknown, expired or foreign one is refused. Between rounds the call waits
 * at most the tool timeout for the client; then it is cancelled upstream.
 */
export class InputRelay {
  readonly #exchanges = new Map<string, Exchange<unknown>>();

  /**
   * Runs one round of a request (a first one, or a retry with `requestState`). `start` starts the upstream request
   * of a first round with its hooks; `roundMs` bounds the wait for the client between rounds.
   */
  async round<T>(
    ctx: ServerContext,
    clientCapabilities: ClientCapabilities | undefined,
    roundMs: number,
    start: (hooks: RoundHooks) => Promise<T>,
  ): Promise<T | InputRequiredResult> {
    const state = ctx.mcpReq.requestState<string>();
    let exchange: Exchange<T>;
    if (typeof state === "string") {
      const found = this.#exchanges.get(state) as Exchange<T> | undefined;
      if (!found || !timingSafeEqual(found.owner!, ownerOfRound(ctx))) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          "Unknown or expired requestState: start the call again without it",
        );
      }
      exchange = found;
      exchange.ctx = ctx;
      exchange.stopExpiry();
      exchange.answer((ctx.mcpReq.inputResponses as Record<string, unknown> | undefined) ?? {});
    } else {
      // Most calls never ask for anything: the exchange is kept (and its token minted) only when one does.
      const created = new Exchange<T>(ctx);
      exchange = created;
      const onServerRequest: ServerRequestHandler = (request, signal) => {
        if (declares(clientCapabilities, request)) return created.ask(request, signal);
        // A form the client cannot show is answered by the proxy's elicitation policy, as for a REST caller. Sampling
        // and roots have no such policy: the server is told the client lacks the capability (-32021), as the spec
        // has a server answer such a request itself.
        if (request.method === "elicitation/create") return Promise.resolve(undefined);
        const required = request.method === "sampling/createMessage" ? { sampling: {} } : { roots: {} };
        return Promise.reject(
          new MissingRequiredClientCapabilityError(
            { requiredCapabilities: required },
            `The MCP client did not declare ${Object.keys(required)[0]}, which the upstream server asked for`,
          ),
        );
      };
      created.outcome = start({ onServerRequest, controller: created.controller, ctx: () => created.ctx });
      created.outcome.catch(() => undefined); // awaited by a round, or dropped with the exchange
    }
    const forget = (): void => {
      if (exchange.token !== undefined) this.#exchanges.delete(exchange.token);
    };
    try {
      const step = await exchange.step(ctx.mcpReq.signal);
      if (step.done) {
        forget();
        return step.result;
      }
      // A new requestState every round: an answer to an earlier round cannot be replayed. The caller is digested
      // here, not for every call: most calls never ask for anything.
      forget();
      exchange.owner ??= ownerOfRound(exchange.ctx);
      exchange.token = mintToken();
      this.#exchanges.set(exchange.token, exchange as Exchange<unknown>);
      exchange.expireIn(roundMs, () => {
        forget();
        exchange.controller.abort();
      });
      return inputRequired({ inputRequests: step.requests, requestState: exchange.token });
    } catch (error) {
      forget();
      if (ctx.mcpReq.signal.aborted) exchange.controller.abort();
      throw error;
    }
  }

  close(): void {
    for (const exchange of this.#exchanges.values()) {
      exchange.stopExpiry();
      exchange.controller.abort();
    }
    this.#exchanges.clear();
  }
}

/** Whether the MCP client declared what the request needs; else the proxy answers it (the REST policy). */
function declares(capabilities: ClientCapabilities | undefined, request: ServerRequest): boolean {
  switch (request.method) {
    case "elicitation/create": {
      const elicitation = capabilities?.elicitation;
      if (!elicitation) return false;
      // A client that declared `elicitation: {}` takes forms (2025-06-18); url mode must be declared.
      return request.params.mode === "url" ? elicitation.url !== undefined : true;
    }
    case "sampling/createMessage":
      return capabilities?.sampling !== undefined;
    case "roots/list":
      return capabilities?.roots !== undefined;
  }
}

function inputRequestOf(request: ServerRequest): InputRequest {
  return { method: request.method, params: request.params ?? {} } as InputRequest;
}

function mintToken(): string {
  return randomBytes(18).toString("base64url");
}

/** Who sent this round (callerOf, passed by the endpoint as the request's authInfo), digested. */
function ownerOfRound(ctx: ServerContext): Buffer {
  return ownerOf(ctx.http?.authInfo?.clientId ?? "");
}
