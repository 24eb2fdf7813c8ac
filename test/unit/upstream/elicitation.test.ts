import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ElicitRequest } from "@modelcontextprotocol/client";
import {
  decide,
  InputBroker,
  type CallInputs,
  type ServerRequest,
  type ServerRequestHandler,
} from "../../../src/upstream/elicitation.js";

type Params = ElicitRequest["params"];
const form = (properties: Record<string, object>, required?: string[]): Params => ({
  mode: "form",
  message: "Tell me more",
  requestedSchema: { type: "object", properties, ...(required ? { required } : {}) } as never,
});
const url: Params = { mode: "url", message: "Sign in", url: "https://example.test/login", elicitationId: "e1" };
const request = (params: Params): ServerRequest => ({ method: "elicitation/create", params });
const signal = new AbortController().signal;

describe("decide (the elicitation policy)", () => {
  it("defaults: accepts a form with every default applied when each required field has one", () => {
    const params = form(
      {
        name: { type: "string", default: "Ada" },
        age: { type: "integer", default: 36 },
        subscribe: { type: "boolean", default: false },
        colour: { type: "string", enum: ["red", "blue"], default: "blue" },
        note: { type: "string" },
      },
      ["name", "age"],
    );
    assert.deepEqual(decide("defaults", params), {
      action: "accept",
      content: { name: "Ada", age: 36, subscribe: false, colour: "blue" },
    });
  });

  it("defaults: accepts a form without required fields, with whatever defaults it has", () => {
    assert.deepEqual(decide("defaults", form({ note: { type: "string" } })), { action: "accept", content: {} });
  });

  it("defaults: declines a form with a required field that has no default, naming it", () => {
    const decision = decide(
      "defaults",
      form({ name: { type: "string" }, age: { type: "integer", default: 1 } }, ["name"]),
    );
    assert.deepEqual(decision, { action: "decline", reason: "required field name has no default" });
    const two = decide("defaults", form({ a: { type: "string" }, b: { type: "string" } }, ["a", "b"]));
    assert.deepEqual(two, { action: "decline", reason: "required fields a, b have no default" });
  });

  it("declines URL mode under either policy, and everything under decline", () => {
    assert.equal(decide("defaults", url).action, "decline");
    assert.equal(decide("decline", url).action, "decline");
    assert.deepEqual(decide("decline", form({ a: { type: "string", default: "x" } })), {
      action: "decline",
      reason: "the elicitation policy is decline",
    });
  });
});

describe("InputBroker", () => {
  it("answers with the policy and puts what it declined on the call whose async context asked", async () => {
    const broker = new InputBroker("defaults");
    const first: CallInputs = {};
    const second: CallInputs = {};
    await Promise.all([
      broker.track(first, true, async () => {
        await Promise.resolve();
        assert.deepEqual(await broker.answer(request(form({ a: { type: "string" } }, ["a"])), signal), {
          action: "decline",
        });
      }),
      broker.track(second, true, async () => {
        assert.deepEqual(await broker.answer(request(form({ a: { type: "string", default: "x" } }, ["a"])), signal), {
          action: "accept",
          content: { a: "x" },
        });
      }),
    ]);
    assert.deepEqual(first.unsatisfied, {
      reason: "required field a has no default",
      message: "Tell me more",
    });
    assert.equal(second.unsatisfied, undefined);
  });

  it("keeps the URL of a declined URL request", async () => {
    const broker = new InputBroker("defaults");
    const call: CallInputs = {};
    await broker.track(call, true, async () => broker.answer(request(url), signal));
    assert.deepEqual(call.unsatisfied, {
      reason: "it asks the user to open a URL",
      message: "Sign in",
      url: "https://example.test/login",
    });
  });

  it("outside any call's context, blames the one call in flight, and nobody when several are", async () => {
    const broker = new InputBroker("decline");
    const only: CallInputs = {};
    let release!: () => void;
    const running = broker.track(only, false, () => new Promise<void>((resolve) => (release = resolve)));
    // A 2025 stdio request arrives from the pipe's context, not the call's.
    await new Promise<void>((resolve) => setImmediate(() => resolve(void broker.answer(request(form({})), signal))));
    assert.equal(only.unsatisfied?.reason, "the elicitation policy is decline");

    const a: CallInputs = {};
    const b: CallInputs = {};
    let releaseBoth!: () => void;
    const gate = new Promise<void>((resolve) => (releaseBoth = resolve));
    const both = Promise.all([broker.track(a, false, () => gate), broker.track(b, false, () => gate)]);
    release();
    await running;
    await new Promise<void>((resolve) => setImmediate(() => resolve(void broker.answer(request(form({})), signal))));
    assert.equal(a.unsatisfied, undefined);
    assert.equal(b.unsatisfied, undefined);
    releaseBoth();
    await both;
  });

  it("without the call's context (2025 stdio), a request inside the call is still put on the one call in flight", async () => {
    const broker = new InputBroker("decline");
    const call: CallInputs = {};
    await broker.track(call, false, async () => broker.answer(request(form({})), signal));
    assert.equal(call.unsatisfied?.reason, "the elicitation policy is decline");
  });
});

describe("InputBroker: a call's own handler (CallOptions.onServerRequest)", () => {
  const sample: ServerRequest = {
    method: "sampling/createMessage",
    params: { messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 5 },
  };
  const roots: ServerRequest = { method: "roots/list" };
  const handlerAnswering = (reply: string): { handler: ServerRequestHandler; seen: string[] } => {
    const seen: string[] = [];
    return {
      seen,
      handler: async (asked) => {
        seen.push(asked.method);
        return asked.method === "roots/list"
          ? { roots: [{ uri: `file:///${reply}` }] }
          : { role: "assistant", content: { type: "text", text: reply }, model: "m" };
      },
    };
  };

  it("hands the call's requests to its handler, in the call's context, whatever the method", async () => {
    const broker = new InputBroker("defaults");
    const mine = handlerAnswering("mine");
    const call: CallInputs = { handler: mine.handler };
    await broker.track(call, true, async () => {
      assert.deepEqual(await broker.answer(roots, signal), { roots: [{ uri: "file:///mine" }] });
      assert.equal(((await broker.answer(sample, signal)) as { model: string }).model, "m");
    });
    assert.deepEqual(mine.seen, ["roots/list", "sampling/createMessage"]);
    assert.equal(call.unsatisfied, undefined);
  });

  it("a handler's undefined leaves the request to the policy, bookkeeping included", async () => {
    const broker = new InputBroker("decline");
    const call: CallInputs = { handler: async () => undefined };
    await broker.track(call, true, async () => {
      assert.deepEqual(await broker.answer(request(form({})), signal), { action: "decline" });
    });
    assert.equal(call.unsatisfied?.reason, "the elicitation policy is decline");
  });

  it("without a handler: sampling is an MCP error and the call's 409, roots an empty list", async () => {
    const broker = new InputBroker("defaults");
    const call: CallInputs = {};
    await broker.track(call, true, async () => {
      await assert.rejects(broker.answer(sample, signal), (error: unknown) => {
        assert.equal((error as { code?: number }).code, -32601);
        return true;
      });
      assert.deepEqual(await broker.answer(roots, signal), { roots: [] });
    });
    assert.match(call.unsatisfied?.reason ?? "", /sampling/);
  });

  it("the one call in flight gets a request only when its transport could not have told (never a roots/list)", async () => {
    const broker = new InputBroker("defaults");
    const outside = (asked: ServerRequest): Promise<unknown> =>
      // (From setImmediate: outside every call's async context, as a request read from a pipe is.)
      new Promise((resolve, reject) => setImmediate(() => void broker.answer(asked, signal).then(resolve, reject)));

    const stdio = handlerAnswering("stdio");
    let release!: () => void;
    const running = broker.track({ handler: stdio.handler }, false, () => new Promise<void>((r) => (release = r)));
    await outside(sample);
    assert.deepEqual(await outside(roots), { roots: [] }, "roots are the session's: never guessed");
    assert.deepEqual(stdio.seen, ["sampling/createMessage"]);
    release();
    await running;

    // A call whose requests arrive in its context: one from elsewhere (a 2025 GET stream) is not its own.
    const http = handlerAnswering("http");
    const call: CallInputs = { handler: http.handler };
    let done!: () => void;
    const inContext = broker.track(call, true, () => new Promise<void>((r) => (done = r)));
    await assert.rejects(outside(sample));
    assert.deepEqual(http.seen, []);
    done();
    await inContext;
  });
});
