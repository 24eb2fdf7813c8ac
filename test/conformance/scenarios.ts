import assert from "node:assert/strict";
import { hasRoute, type OpenApiDocument, type RestApi } from "./rest-api.js";

/**
 * What a REST user does in each client scenario of the conformance suite, so
 * that our proxy, as the MCP client, produces the traffic the scenario's mock
 * server judges. Each one also checks the answers it gets. Learned from the
 * scenarios' sources in @modelcontextprotocol/conformance 0.1.16 and
 * 0.2.0-alpha.12 (dist/index.js): which tools the mock lists, which calls it
 * expects, what it answers. A scenario runs once the proxy is connected
 * (GET /health answered 200), so the handshake itself is already done.
 */
export type Scenario = (api: RestApi, context: ScenarioContext) => Promise<void>;

/** MCP_CONFORMANCE_CONTEXT, parsed; only some scenarios set it. */
export interface ScenarioContext {
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  /** Judged on the initialize request alone: being connected is the whole scenario. */
  initialize: async (api) => {
    await api.document();
  },

  tools_call: async (api) => {
    await expectRoutes(api, ["add_numbers"]);
    assert.equal(await api.call("add_numbers", { a: 2, b: 3 }), "The sum of 2 and 3 is 5");
  },

  /** The tool elicits a form whose fields all have defaults; the client must accept with every default filled in. */
  "elicitation-sep1034-client-defaults": async (api) => {
    const body = await api.call("test_client_elicitation_defaults", {});
    assert.equal(typeof body, "string", `expected the tool's text, got ${JSON.stringify(body)}`);
    const prefix = "Elicitation completed: ";
    assert.ok((body as string).startsWith(prefix), `the tool reported: ${String(body)}`);
    assert.deepEqual(JSON.parse((body as string).slice(prefix.length)), {
      name: "John Doe",
      age: 30,
      score: 95.5,
      status: "active",
      verified: true,
    });
  },

  /** The mock closes the call's SSE stream after a priming event; the answer comes on the GET stream the client must reopen. */
  "sse-retry": async (api) => {
    await expectRoutes(api, ["test_reconnection"]);
    assert.equal(await api.call("test_reconnection", {}), "Reconnection test completed successfully");
  },

  /**
   * The mock rejects the first request with -32022 (unsupported version) and then checks every request's
   * MCP-Protocol-Version header and `_meta`; it lists no tools, so connecting is the scenario.
   */
  "request-metadata": async (api) => {
    await api.document();
  },

  /**
   * Multi-round-trip tool calls: two tools answer `input_required` (an elicitation, with and without
   * requestState) before completing; one answers at once; one completes without `resultType`. Called at the
   * same time, so that a retry's inputResponses or requestState leaking into another call would show.
   */
  "sep-2322-client-request-state": async (api) => {
    const expected: Record<string, string> = {
      test_mrtr_echo_state: "echo-state-ok",
      test_mrtr_no_state: "no-state-ok",
      test_mrtr_unrelated: "unrelated-ok",
      test_mrtr_no_result_type: "no-result-type-test-ok",
    };
    await expectRoutes(api, Object.keys(expected));
    const answers = await Promise.allSettled(Object.keys(expected).map((tool) => api.call(tool, {})));
    const problems = Object.entries(expected).flatMap(([tool, text], index) => {
      const answer = answers[index]!;
      if (answer.status === "rejected") return [`${tool}: ${messageOf(answer.reason)}`];
      return answer.value === text ? [] : [`${tool}: expected ${text}, got ${JSON.stringify(answer.value)}`];
    });
    expectNoProblems(problems);
  },

  /** Mcp-Method / Mcp-Name on every POST; our API has no resources or prompts, so only tools are exercised. */
  "http-standard-headers": async (api) => {
    await expectRoutes(api, ["test_headers", "my-hyphenated-tool"]);
    assert.equal(await api.call("test_headers", {}), "Headers test completed");
    assert.equal(await api.call("my-hyphenated-tool", {}), "Headers test completed");
  },

  /** The context names the calls to make; the mock checks the Mcp-Param-* headers the client derives from them. */
  "http-custom-headers": async (api, context) => {
    const calls = context.toolCalls ?? [];
    assert.ok(calls.length > 0, "MCP_CONFORMANCE_CONTEXT has no toolCalls");
    await expectRoutes(
      api,
      calls.map((call) => call.name),
    );
    for (const call of calls) {
      assert.equal(await api.call(call.name, call.arguments), "Custom headers test completed", call.name);
    }
  },

  /**
   * One valid tool and eleven whose x-mcp-header annotations are invalid: the client must exclude those
   * (they must not be served), and keep the valid one. Each invalid tool is also called with arguments that
   * match its schema, so that a proxy that served it anyway would forward the call and the mock would see it.
   */
  "http-invalid-tool-headers": async (api) => {
    await expectRoutes(api, ["valid_tool"]);
    assert.equal(await api.call("valid_tool", { region: "us-west1" }), "Tool call received");
    const invalid: Record<string, unknown> = {
      invalid_empty_header: { value: "x" },
      invalid_object_header: { data: {} },
      invalid_array_header: { items: ["x"] },
      invalid_null_header: { nil: null },
      invalid_number_header: { score: 1.5 },
      invalid_duplicate_same_case: { field1: "x", field2: "y" },
      invalid_duplicate_diff_case: { field1: "x", field2: "y" },
      invalid_space_in_name: { value: "x" },
      invalid_colon_in_name: { value: "x" },
      invalid_non_ascii_name: { value: "x" },
      invalid_control_char_name: { value: "x" },
    };
    const doc = await api.document();
    const problems: string[] = [];
    for (const [tool, args] of Object.entries(invalid)) {
      if (hasRoute(doc, tool)) problems.push(`${tool} is served (in /openapi.json)`);
      const status = await api.status(tool, args);
      if (status !== 404) problems.push(`POST /${tool} answered ${status}, not 404`);
    }
    expectNoProblems(problems);
  },

  /**
   * The tool's schema has a `$ref` to a URL on the mock: listing the tool, building the document and validating
   * a call's arguments must not fetch it. The mock has no tools/call, so the call's answer does not matter.
   */
  "json-schema-ref-no-deref": async (api) => {
    await expectRoutes(api, ["lookup_user"]);
    await api.status("lookup_user", { id: "user-1" });
  },

  /**
   * The mock wants back the inputSchema the client received for json_schema_2020_12_tool, through
   * json_schema_echo. The OpenAPI document adapts schemas for OpenAPI tools (no $schema, $defs moved to
   * components); a REST user gets the untouched definition from GET /tools, and that is what is sent back.
   */
  "json-schema-2020-12-preservation": async (api) => {
    const tool = (await api.definitions()).find((definition) => definition.name === "json_schema_2020_12_tool");
    assert.ok(tool, "json_schema_2020_12_tool is not in GET /tools");
    assert.equal(await api.call("json_schema_echo", { schema: tool.inputSchema }), "echoed");
  },
};

/** Fails unless the document serves every tool (the proxy lists tools when it connects). */
async function expectRoutes(api: RestApi, tools: string[]): Promise<OpenApiDocument> {
  const doc = await api.document();
  const missing = tools.filter((tool) => !hasRoute(doc, tool));
  if (missing.length > 0) throw new Error(`not in /openapi.json: ${missing.join(", ")}`);
  return doc;
}

function expectNoProblems(problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
