import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { Transport } from "@modelcontextprotocol/client";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { stopAll } from "../helpers/processes.js";
import { connectV2 } from "../helpers/v2-client.js";

export interface ContractSetup {
  /** Options and target for the CLI. */
  cli: () => Promise<{ options: string[]; target: string[] }>;
  /**
   * A v2 SDK transport to the same upstream. The suite lists its tools through
   * it with `versionNegotiation: auto` (so modern-only servers are reachable),
   * to know the real tool list the proxy must serve.
   */
  directTransport: () => Transport;
  /** The upstream's serverInfo: its `title` becomes the OpenAPI title, its `name` is reported by /health. */
  serverInfo: { title: string; name: string };
  /**
   * The era the proxy must negotiate, checked on /health's `details.protocol_version`:
   * "modern" is "2026-07-28", "legacy" a 2025 revision. Default: not checked.
   */
  expectEra?: "legacy" | "modern";
  teardown?: () => Promise<void>;
}

type Json = Record<string, any>;

/** The contract every transport must honour, run against server-everything and the v2 fixtures. */
export function proxyContract(name: string, setup: ContractSetup): void {
  describe(`proxy contract over ${name}`, () => {
    let proxy: Proxy;
    let toolNames: string[];
    let tools: Json[];

    before(async () => {
      const { options, target } = await setup.cli();
      proxy = await startProxy(options, target);
      // Declared like the proxy does: servers may list more tools to clients that can answer elicitation,
      // sampling or roots (server-everything adds trigger-elicitation-request, trigger-sampling-request and
      // get-roots-list).
      const client = await connectV2(setup.directTransport(), "auto", {
        capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
      });
      try {
        tools = (await client.listTools()).tools as Json[];
        toolNames = tools.map((tool) => tool.name as string);
      } finally {
        await client.close();
      }
      await waitForHealth(proxy, 200);
    });

    after(async () => {
      await proxy?.stop();
      await setup.teardown?.();
      await stopAll();
    });

    it("documents every upstream tool in a valid OpenAPI 3.1 document", async () => {
      const { status, body } = await proxy.get("/openapi.json");
      assert.equal(status, 200);
      const doc = body as Json;
      assert.equal(doc.openapi, "3.1.0");
      await SwaggerParser.validate(structuredClone(doc) as never);
      // Tool routes only: resource and prompt routes (POST /resources/read, /prompts/{name}) have two segments.
      const paths = Object.keys(doc.paths).filter(
        (path) => doc.paths[path].post && !/^\/(resources|prompts)\//.test(path),
      );
      assert.deepEqual(paths.sort(), toolNames.map((n) => `/${encodeURIComponent(n)}`).sort());
      const ids = paths.map((path) => doc.paths[path].post.operationId as string);
      assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
      for (const id of ids) assert.match(id, /^[a-zA-Z0-9_-]{1,64}$/);
      assert.equal(doc.info.title, setup.serverInfo.title);
      const echo = doc.paths["/echo"].post;
      assert.equal(echo.summary, "Echo Tool");
      assert.equal(echo.description, "Echoes back the input string");
      const schema = echo.requestBody.content["application/json"].schema;
      assert.deepEqual(schema.required, ["message"]);
      assert.equal(schema.$schema, undefined, "$schema is stripped");
    });

    it("serves the tool definitions at /tools as the upstream gave them, schemas untouched", async () => {
      const { status, body } = await proxy.get("/tools");
      assert.equal(status, 200);
      const served = (body as Json).tools as Json[];
      assert.deepEqual(served.map((tool) => tool.name).sort(), [...toolNames].sort());
      const echo = served.find((tool) => tool.name === "echo")!;
      assert.deepEqual(echo.inputSchema, tools.find((tool) => tool.name === "echo")!.inputSchema);
      const doc = (await proxy.get("/openapi.json")).body as Json;
      assert.equal(doc.paths["/tools"].get.operationId, undefined, "not a tool for Open WebUI's model");
    });

    it("calls echo", async () => {
      const { status, body } = await proxy.post("/echo", { message: "hi there" });
      assert.equal(status, 200);
      assert.equal(body, "Echo: hi there");
    });

    it("calls get-sum", async () => {
      const { status, body } = await proxy.post("/get-sum", { a: 2, b: 3.5 });
      assert.equal(status, 200);
      assert.equal(body, "The sum of 2 and 3.5 is 5.5.");
    });

    it("returns an image as a data URL", async () => {
      const { status, body } = await proxy.post("/get-tiny-image", {});
      assert.equal(status, 200);
      assert.ok(Array.isArray(body));
      assert.equal(body[0], "Here's the image you requested:");
      assert.match(String(body[1]), /^data:image\/png;base64,iVBORw0KGgo/);
    });

    it("returns an embedded text resource as its text", async () => {
      const { status, body } = await proxy.post("/get-resource-reference", { resourceType: "Text", resourceId: 7 });
      assert.equal(status, 200);
      assert.ok(Array.isArray(body));
      assert.match(String(body[1]), /^Resource 7: This is a plaintext resource/);
    });

    it("returns an embedded blob resource as a data URL", async () => {
      const { body } = await proxy.post("/get-resource-reference", { resourceType: "Blob", resourceId: 2 });
      assert.ok(Array.isArray(body));
      assert.match(String(body[1]), /^data:text\/plain;base64,/);
    });

    it("returns structuredContent for a tool with an outputSchema, and documents it", async () => {
      const { status, body } = await proxy.post("/get-structured-content", { location: "Chicago" });
      assert.equal(status, 200);
      const result = body as Json;
      assert.equal(typeof result.temperature, "number");
      assert.equal(typeof result.conditions, "string");
      const doc = (await proxy.get("/openapi.json")).body as Json;
      const response = doc.paths["/get-structured-content"].post.responses["200"].content["application/json"].schema;
      assert.equal(response.properties.temperature.type, "number");
    });

    it("answers 422 with every problem located, without calling upstream", async () => {
      const { status, body } = await proxy.post("/get-sum", { a: "two" });
      assert.equal(status, 422);
      const problems = (body as Json).detail as Json[];
      assert.deepEqual(new Set(problems.map((p) => JSON.stringify(p.loc))), new Set(['["body","a"]', '["body","b"]']));
      assert.ok(problems.some((p) => p.type === "missing" && p.msg === "Field required"));
      assert.ok(problems.some((p) => p.type === "number_type"));
    });

    it("answers 422 for an enum violation and for a non-object body", async () => {
      assert.equal((await proxy.post("/get-structured-content", { location: "Paris" })).status, 422);
      const array = await proxy.post("/echo", [1, 2]);
      assert.equal(array.status, 422);
      assert.deepEqual(((array.body as Json).detail as Json[])[0]!.loc, ["body"]);
    });

    it("answers 400 for malformed JSON", async () => {
      const { status, body } = await proxy.post("/echo", "{not json");
      assert.equal(status, 400);
      assert.equal((body as Json).detail.code, "bad_request");
      assert.match((body as Json).detail.message, /not valid JSON/);
    });

    it("answers 404 JSON for an unknown tool and an unknown route", async () => {
      const tool = await proxy.post("/no-such-tool", {});
      assert.equal(tool.status, 404);
      assert.equal((tool.body as Json).detail.code, "unknown_tool");
      const route = await proxy.get("/no/such/route");
      assert.equal(route.status, 404);
      assert.equal((route.body as Json).detail.code, "not_found");
    });

    it("serves a tool route with a trailing slash without redirecting", async () => {
      const { status, body } = await proxy.post("/echo/", { message: "slash" });
      assert.equal(status, 200);
      assert.equal(body, "Echo: slash");
    });

    it("reports health with a ping", async () => {
      const { status, body } = await proxy.get("/health");
      assert.equal(status, 200);
      const health = body as Json;
      assert.equal(health.status, "healthy");
      assert.equal(health.message, "connection OK");
      assert.equal(health.details.state, "ready");
      assert.equal(health.details.error_count, 0);
      assert.equal(health.details.check_type, "on_demand");
      assert.equal(typeof health.details.last_check, "number");
      assert.equal(health.details.server.name, setup.serverInfo.name);
    });

    if (setup.expectEra) {
      const era = setup.expectEra;
      it(`reports the negotiated ${era} protocol revision in /health`, async () => {
        const { body } = await proxy.get("/health");
        const revision = (body as Json).details.protocol_version;
        if (era === "modern") assert.equal(revision, "2026-07-28");
        else assert.match(String(revision), /^2025-\d\d-\d\d$/);
      });
    }

    it("serves Swagger UI at /docs", async () => {
      const redirect = await proxy.get("/docs");
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get("location"), "/docs/");
      const page = await proxy.get("/docs/");
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      assert.match(page.text, /swagger-ui/i);
      const init = await proxy.get("/docs/swagger-ui-init.js");
      assert.equal(init.status, 200);
      assert.match(init.text, /"url": "\/openapi.json"/);
    });

    it("writes nothing but JSON lines to stderr, even after many calls", async () => {
      // More calls than Node's default listener limit (10), in flight together.
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => proxy.post("/echo", { message: `n${i}` })),
      );
      assert.ok(answers.every((answer) => answer.status === 200));
      const lines = proxy.process
        .stderr()
        .split("\n")
        .filter((line) => line.trim() !== "");
      const notJson = lines.filter((line) => {
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(notJson, []);
    });
  });
}
