/**
 * A server's requests to its client (elicitation, sampling, roots) reach the handler of the call they belong to
 * (CallOptions.onServerRequest), in both eras, and only that call's; without a handler the REST policy answers. Driven
 * on UpstreamConnection itself, against server-everything (2025: stdio and Streamable HTTP) and the v2 fixture
 * (2026-07-28: stdio and Streamable HTTP). What a REST caller of such a tool gets is checked through the CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { resolveConnectionSettings, type ServerConfig, type TransportConfig } from "../../src/config/schema.js";
import { InputRequiredError, ProxyError } from "../../src/errors/index.js";
import { silentLogger } from "../../src/log/logger.js";
import {
  UpstreamConnection,
  type ServerRequest,
  type ServerRequestHandler,
  type ServerRequestResult,
} from "../../src/upstream/index.js";
import { EVERYTHING_STDIO, startEverything, type RemoteServer } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { startV2Http, V2_STDIO } from "../fixtures/v2/index.js";
import type { FixtureHttp } from "../fixtures/index.js";

const BASE_ENV = Object.fromEntries(
  Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
);

function stdio(argv: readonly string[]): TransportConfig {
  const [command, ...args] = argv;
  return { type: "stdio", command: command!, args, env: {} };
}

function http(url: string): TransportConfig {
  return { type: "streamable-http", url, headers: {} };
}

async function open(transport: TransportConfig, protocol: "auto" | "2026-07-28" = "auto"): Promise<UpstreamConnection> {
  const server: ServerConfig = {
    name: "requests",
    transport,
    settings: resolveConnectionSettings({ protocol, tool_timeout: 20 }),
    disabled: false,
    tools: { disabled: [] },
  };
  const connection = new UpstreamConnection({
    server,
    baseEnv: BASE_ENV,
    logger: silentLogger(),
    clientInfo: { name: "server-requests-test", version: "0" },
  });
  connection.start();
  await connection.opened();
  return connection;
}

/** A handler that answers with `answer(request)` and keeps what it was asked. */
function recording(answer: (request: ServerRequest) => ServerRequestResult | undefined): {
  handler: ServerRequestHandler;
  seen: ServerRequest[];
} {
  const seen: ServerRequest[] = [];
  return {
    seen,
    handler: async (request, signal) => {
      assert.ok(signal instanceof AbortSignal);
      seen.push(request);
      return answer(request);
    },
  };
}

const textOf = (result: { content?: unknown }): string =>
  (result.content as { type: string; text?: string }[]).map((block) => block.text ?? "").join("\n");

/** The sampling answer of a client whose model says `reply`. */
const modelSays = (reply: string): ServerRequestResult => ({
  role: "assistant",
  content: { type: "text", text: reply },
  model: "test-model",
  stopReason: "endTurn",
});

const promptOf = (request: ServerRequest): string => {
  assert.equal(request.method, "sampling/createMessage");
  const content = request.params.messages[0]!.content as { text: string };
  return content.text;
};

describe("server requests on 2025 stdio (server-everything)", () => {
  let connection: UpstreamConnection;
  before(async () => {
    connection = await open(stdio(EVERYTHING_STDIO));
  });
  after(async () => {
    await connection?.close();
    await stopAll();
  });

  it("declares sampling and roots, so the server offers its tools that need them", () => {
    const names = connection.tools.map((tool) => tool.name);
    for (const name of ["trigger-sampling-request", "get-roots-list", "trigger-elicitation-request"]) {
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    }
  });

  it("the roots/list the server sends at start, while one call is in flight, is not that call's", async () => {
    // server-everything asks for roots 350 ms after `initialize`; this call is alone in flight then.
    const { handler, seen } = recording(() => ({ roots: [{ uri: "file:///caller", name: "caller" }] }));
    await connection.callTool(
      "trigger-long-running-operation",
      { duration: 1, steps: 1 },
      { onServerRequest: handler },
    );
    assert.deepEqual(seen, []);
    const result = await connection.callTool("get-roots-list", {});
    assert.equal(result.isError, undefined);
    assert.match(textOf(result), /supports roots but no roots are currently configured/);
  });

  it("hands the call's sampling request to its handler, and the answer reaches the tool's result", async () => {
    const { handler, seen } = recording(() => modelSays("forty-two"));
    const result = await connection.callTool(
      "trigger-sampling-request",
      { prompt: "the answer", maxTokens: 5 },
      { onServerRequest: handler },
    );
    assert.equal(seen.length, 1);
    assert.match(promptOf(seen[0]!), /the answer/);
    assert.equal(result.isError, undefined);
    assert.match(textOf(result), /forty-two/);
    assert.match(textOf(result), /test-model/);
  });

  it("hands the call's elicitation to its handler: the user's answer reaches the tool", async () => {
    const { handler, seen } = recording((request) => {
      assert.equal(request.method, "elicitation/create");
      return { action: "accept", content: { name: "Ada", check: true, email: "ada@example.com" } };
    });
    const result = await connection.callTool("trigger-elicitation-request", {}, { onServerRequest: handler });
    assert.equal(seen.length, 1);
    assert.match(textOf(result), /Ada/);
  });

  it("a handler that resolves undefined leaves the request to the REST policy (a declined form: 409)", async () => {
    const { handler, seen } = recording(() => undefined);
    await assert.rejects(
      connection.callTool("trigger-elicitation-request", {}, { onServerRequest: handler }),
      (error: unknown) => error instanceof InputRequiredError && error.httpStatus === 409,
    );
    assert.equal(seen.length, 1);
  });

  it("without a handler, sampling is refused upstream with an MCP error, and the call answers 409", async () => {
    await assert.rejects(
      connection.callTool("trigger-sampling-request", { prompt: "x", maxTokens: 5 }),
      (error: unknown) =>
        error instanceof InputRequiredError &&
        /no MCP client can answer sampling through the REST API/.test(error.message),
    );
  });

  it("without a handler, elicitation keeps the REST policy: a form it cannot fill fails the call with 409", async () => {
    await assert.rejects(
      connection.callTool("trigger-elicitation-request", {}),
      (error: unknown) => error instanceof InputRequiredError && error.httpStatus === 409,
    );
  });

  it("two calls in flight on stdio: no request is certainly either's, so neither handler is asked", async () => {
    const first = recording(() => modelSays("first"));
    const second = recording(() => modelSays("second"));
    const slow = connection.callTool("trigger-long-running-operation", { duration: 1, steps: 1 });
    // (The long call is in flight: the sampling request cannot be told apart from it on stdio.)
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [sampled] = await Promise.all([
      connection.callTool(
        "trigger-sampling-request",
        { prompt: "p", maxTokens: 5 },
        { onServerRequest: first.handler },
      ),
      slow,
    ]);
    assert.equal(first.seen.length + second.seen.length, 0);
    // Refused as for a REST caller; the server reports the refusal (the 409 needs to know the call).
    assert.equal(sampled.isError, true);
    assert.match(textOf(sampled), /-32601.*no model to sample/s);
  });
});

describe("server requests on 2025 Streamable HTTP (server-everything)", () => {
  let everything: RemoteServer;
  let connection: UpstreamConnection;
  before(async () => {
    everything = await startEverything("streamableHttp");
    connection = await open(http(everything.url));
  });
  after(async () => {
    await connection?.close();
    await everything?.stop();
    await stopAll();
  });

  it("two concurrent calls each get only their own sampling request", async () => {
    const calls = ["alpha", "beta", "gamma"].map((tag) => {
      const recorded = recording((request) => modelSays(`reply to ${promptOf(request)}`));
      return {
        tag,
        recorded,
        result: connection.callTool(
          "trigger-sampling-request",
          { prompt: tag, maxTokens: 5 },
          { onServerRequest: recorded.handler },
        ),
      };
    });
    for (const { tag, recorded, result } of calls) {
      const text = textOf(await result);
      assert.equal(recorded.seen.length, 1, tag);
      assert.match(promptOf(recorded.seen[0]!), new RegExp(`context: ${tag}$`));
      assert.match(text, new RegExp(`reply to [^"]*context: ${tag}`));
    }
  });

  it("without a handler the REST policy still holds beside a call that has one", async () => {
    const recorded = recording(() => modelSays("mine"));
    const [withHandler, without] = await Promise.allSettled([
      connection.callTool(
        "trigger-sampling-request",
        { prompt: "a", maxTokens: 5 },
        { onServerRequest: recorded.handler },
      ),
      connection.callTool("trigger-sampling-request", { prompt: "b", maxTokens: 5 }),
    ]);
    assert.equal(recorded.seen.length, 1);
    assert.equal(withHandler.status, "fulfilled");
    assert.match(textOf(withHandler.value), /mine/);
    assert.equal(without.status, "rejected");
    assert.ok(without.reason instanceof InputRequiredError);
  });
});

for (const kind of ["stdio", "streamable-http"] as const) {
  describe(`server requests on 2026-07-28 ${kind} (v2 fixture): input requests inside callTool`, () => {
    let fixture: FixtureHttp | undefined;
    let connection: UpstreamConnection;
    before(async () => {
      if (kind === "stdio") {
        connection = await open(stdio(V2_STDIO["modern-only"]), "2026-07-28");
      } else {
        fixture = await startV2Http({ era: "modern-only" });
        connection = await open(http(fixture.url), "2026-07-28");
      }
    });
    after(async () => {
      await connection?.close();
      await fixture?.stop();
      await stopAll();
    });

    it("sampling, roots and elicitation each reach the call's handler and its answer the result", async () => {
      const sampling = recording((request) => modelSays(`said: ${promptOf(request)}`));
      const sampled = await connection.callTool(
        "sample-tagged",
        { tag: "hello" },
        { onServerRequest: sampling.handler },
      );
      assert.deepEqual(JSON.parse(textOf(sampled)), { model: "test-model", text: "said: hello" });

      const roots = recording(() => ({ roots: [{ uri: "file:///work/project", name: "project" }] }));
      const listed = await connection.callTool("roots-tagged", { tag: "r" }, { onServerRequest: roots.handler });
      assert.deepEqual(JSON.parse(textOf(listed)), {
        tag: "r",
        roots: [{ uri: "file:///work/project", name: "project" }],
      });
      assert.deepEqual(
        roots.seen.map((request) => request.method),
        ["roots/list"],
      );

      const form = recording(() => ({ action: "accept", content: { name: "Grace" } }));
      const elicited = await connection.callTool("elicit-tagged", { tag: "you" }, { onServerRequest: form.handler });
      assert.deepEqual(JSON.parse(textOf(elicited)), { action: "accept", content: { name: "Grace" } });
      const asked = form.seen[0]!;
      assert.equal(asked.method, "elicitation/create");
      assert.equal(asked.params.message, "Who is you?");
    });

    it("concurrent calls each get only their own input requests", async () => {
      const tags = ["one", "two", "three", "four"];
      const calls = tags.map((tag) => {
        const recorded = recording((request) =>
          request.method === "elicitation/create"
            ? { action: "accept", content: { name: `answer for ${tag}` } }
            : modelSays(`answer for ${tag}`),
        );
        const tool = tag.length === 3 ? "sample-tagged" : "elicit-tagged";
        return {
          tag,
          tool,
          recorded,
          result: connection.callTool(tool, { tag }, { onServerRequest: recorded.handler }),
        };
      });
      for (const { tag, tool, recorded, result } of calls) {
        const answer = JSON.parse(textOf(await result)) as Record<string, unknown>;
        assert.equal(recorded.seen.length, 1, tag);
        const request = recorded.seen[0]!;
        if (tool === "sample-tagged") {
          assert.equal(promptOf(request), tag);
          assert.equal(answer.text, `answer for ${tag}`);
        } else {
          assert.equal(request.method === "elicitation/create" && request.params.message, `Who is ${tag}?`);
          assert.deepEqual(answer.content, { name: `answer for ${tag}` });
        }
      }
    });

    it("without a handler: roots are empty, a form the policy cannot fill is 409, sampling fails the call", async () => {
      const listed = await connection.callTool("roots-tagged", { tag: "none" });
      assert.deepEqual(JSON.parse(textOf(listed)), { tag: "none", roots: [] });
      await assert.rejects(
        connection.callTool("elicit-tagged", { tag: "nobody" }),
        (error: unknown) => error instanceof InputRequiredError && /Who is nobody\?/.test(error.message),
      );
      await assert.rejects(
        connection.callTool("sample-tagged", { tag: "x" }),
        (error: unknown) =>
          error instanceof InputRequiredError &&
          /no MCP client can answer sampling through the REST API/.test(error.message),
      );
    });

    it("a handler's error fails the call (2026-07-28 has no error reply to an input request)", async () => {
      await assert.rejects(
        connection.callTool(
          "sample-tagged",
          { tag: "refused" },
          {
            onServerRequest: async () => {
              throw new Error("the user refused to sample");
            },
          },
        ),
        (error: unknown) => error instanceof ProxyError && /the user refused to sample/.test(error.message),
      );
    });
  });
}

describe("REST callers of tools that sample or list roots (server-everything over stdio, through the CLI)", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy([], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("409 input_required for a tool that asks to sample a model: no model and no MCP client behind REST", async () => {
    const { status, body } = await proxy.post("/trigger-sampling-request", { prompt: "hi", maxTokens: 5 });
    assert.equal(status, 409, JSON.stringify(body));
    const detail = (body as Record<string, Record<string, unknown>>).detail!;
    assert.equal(detail.code, "input_required");
    assert.match(String(detail.message), /no MCP client can answer sampling through the REST API/);
  });

  it("200 for a tool that lists the client's roots: a REST caller has none", async () => {
    const { status, body } = await proxy.post("/get-roots-list", {});
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(JSON.stringify(body), /supports roots but no roots are currently configured/);
  });
});
