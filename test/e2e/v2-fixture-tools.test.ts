import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Client, ElicitRequest, ElicitResult, Transport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { DEFAULTS_FORM, startV2Http, V2_STDIO, type V2EraMode } from "../fixtures/v2/index.js";
import { isAlive, waitFor } from "../helpers/wait.js";
import { stopAll } from "../helpers/processes.js";
import { connectV2, v2Transport } from "../helpers/v2-client.js";

type Json = Record<string, any>;

interface Scenario {
  name: string;
  era: V2EraMode;
  wire: "stdio" | "http";
  mode: "auto" | "legacy";
}

// Dual with an auto client behaves as modern-only does; v2-fixtures.test.ts covers that it connects.
const SCENARIOS: Scenario[] = [
  { name: "modern-only over stdio", era: "modern-only", wire: "stdio", mode: "auto" },
  { name: "modern-only over Streamable HTTP", era: "modern-only", wire: "http", mode: "auto" },
  { name: "dual over stdio, 2025 client", era: "dual", wire: "stdio", mode: "legacy" },
  { name: "dual over Streamable HTTP, 2025 client", era: "dual", wire: "http", mode: "legacy" },
];

/** The proxy's elicitation policy: accept with the schema's defaults when every required field has one, else decline. */
function acceptDefaults(request: ElicitRequest): ElicitResult {
  if (request.params.mode === "url") return { action: "decline" };
  const { properties, required = [] } = request.params.requestedSchema;
  const defaults = Object.entries(properties).filter(([, field]) => (field as Json).default !== undefined);
  if (!required.every((name) => defaults.some(([field]) => field === name))) return { action: "decline" };
  return {
    action: "accept",
    content: Object.fromEntries(defaults.map(([name, field]) => [name, (field as Json).default])),
  };
}

const textOf = (result: Json, index = 0): string => result.content[index].text as string;

for (const scenario of SCENARIOS) {
  const modern = scenario.mode === "auto";
  // Stateless 2025 HTTP (createMcpHandler's legacy default) serves each POST with a fresh instance:
  // nothing can travel server-to-client outside a call's own answer, and a cancel reaches nobody.
  const statelessLegacy = scenario.wire === "http" && !modern;

  describe(`v2 fixture tools: ${scenario.name}`, () => {
    let client: Client;
    let stderr: () => string;
    let serverPid: number;

    before(async () => {
      let transport: Transport;
      if (scenario.wire === "http") {
        const http = await startV2Http({ era: scenario.era });
        transport = v2Transport({ url: http.url });
        stderr = () => http.process.stderr();
        serverPid = http.process.pid;
      } else {
        const [command, ...args] = V2_STDIO[scenario.era];
        const stdio = new StdioClientTransport({ command: command!, args, stderr: "pipe" });
        let text = "";
        stdio.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
        stderr = () => text;
        transport = stdio;
      }
      client = await connectV2(transport, scenario.mode, { capabilities: { elicitation: { form: {} } } });
      client.setRequestHandler("elicitation/create", async (request) => acceptDefaults(request));
      if (transport instanceof StdioClientTransport) serverPid = transport.pid!;
      assert.equal(client.getProtocolEra(), modern ? "modern" : "legacy");
    });

    after(async () => {
      await client?.close();
      await stopAll();
    });

    it("answers the contract tools with server-everything's shapes", async () => {
      assert.equal(
        textOf(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3.5 } })),
        "The sum of 2 and 3.5 is 5.5.",
      );
      const image = (await client.callTool({ name: "get-tiny-image", arguments: {} })) as Json;
      assert.deepEqual(
        image.content.map((block: Json) => block.type),
        ["text", "image", "text"],
      );
      assert.equal(image.content[1].mimeType, "image/png");
      assert.match(image.content[1].data, /^iVBORw0KGgo/);
      const text = (await client.callTool({
        name: "get-resource-reference",
        arguments: { resourceType: "Text", resourceId: 7 },
      })) as Json;
      assert.match(text.content[1].resource.text, /^Resource 7: This is a plaintext resource/);
      const blob = (await client.callTool({
        name: "get-resource-reference",
        arguments: { resourceType: "Blob", resourceId: 2 },
      })) as Json;
      assert.equal(
        Buffer.from(blob.content[1].resource.blob, "base64").toString(),
        "Resource 2: This is a base64 blob",
      );
      const weather = (await client.callTool({
        name: "get-structured-content",
        arguments: { location: "Chicago" },
      })) as Json;
      assert.equal(typeof weather.structuredContent.temperature, "number");
      assert.deepEqual(JSON.parse(textOf(weather)), weather.structuredContent);
    });

    it("answers throw with a JSON-RPC error of the asked code, fail with isError", async () => {
      for (const code of [-32601, -32602, -32603, -32099]) {
        await assert.rejects(client.callTool({ name: "throw", arguments: { code, message: `boom ${code}` } }), {
          code,
          message: `boom ${code}`,
        });
      }
      const failed = (await client.callTool({ name: "fail", arguments: {} })) as Json;
      assert.equal(failed.isError, true);
      assert.equal(textOf(failed), "the tool failed on purpose");
    });

    it("asks for input: a form with defaults is accepted, one with a bare required field declined", async () => {
      const defaults = (await client.callTool({ name: "elicit-defaults", arguments: {} })) as Json;
      const required = (await client.callTool({ name: "elicit-required", arguments: {} })) as Json;
      if (statelessLegacy) {
        for (const refused of [defaults, required]) {
          assert.equal(refused.isError, true);
          assert.match(textOf(refused), /per-request legacy serving cannot receive server-to-client requests/);
        }
        return;
      }
      const fields = DEFAULTS_FORM.requestedSchema.properties;
      assert.deepEqual(JSON.parse(textOf(defaults)), {
        action: "accept",
        content: { format: fields.format.default, rows: fields.rows.default, header: fields.header.default },
      });
      assert.deepEqual(JSON.parse(textOf(required)), { action: "decline", content: null });
    });

    it("asks for URL-mode input only of clients that declare it", async () => {
      const asked = client.callTool({ name: "elicit-url", arguments: {} });
      if (modern) {
        await assert.rejects(asked, { code: -32021 }); // MissingRequiredClientCapability: elicitation.url
      } else {
        const refused = (await asked) as Json;
        assert.equal(refused.isError, true);
        assert.match(textOf(refused), /did not declare the required capability/);
      }
    });

    it("sends progress notifications when the call asks for them", async () => {
      const seen: number[] = [];
      const result = await client.callTool(
        { name: "progress", arguments: { steps: 3, intervalMs: 20 } },
        { onprogress: ({ progress }) => seen.push(progress) },
      );
      assert.equal(textOf(result as Json), "progressed 3 steps");
      // The client dispatches notifications a microtask late but responses at once, so the last
      // notification can lose the race against the answer sent right after it.
      assert.ok(seen.length >= 2, `got ${seen.length} notifications`);
      assert.deepEqual(seen, [1, 2, 3].slice(0, seen.length));
    });

    it(
      "stops sleeping when the call is cancelled",
      { skip: statelessLegacy && "a 2025 cancel reaches a fresh instance" },
      async () => {
        const abort = new AbortController();
        const sleeping = client.callTool({ name: "sleep", arguments: { ms: 30_000 } }, { signal: abort.signal });
        await waitFor("the sleep to start", () => stderr().includes("v2 fixture: sleep 30000 started"));
        abort.abort();
        await assert.rejects(sleeping);
        await waitFor("the fixture to see the cancellation", () =>
          stderr().includes("v2 fixture: sleep 30000 cancelled"),
        );
      },
    );

    it(
      "announces a tool added at run time",
      { skip: statelessLegacy && "no channel for unsolicited messages" },
      async () => {
        let announced = false;
        client.setNotificationHandler("notifications/tools/list_changed", () => void (announced = true));
        // On 2026-07-28 list_changed only travels on a subscriptions/listen stream the client opened.
        const subscription = modern ? await client.listen({ toolsListChanged: true }) : undefined;
        try {
          const name = `added-${scenario.wire}-${scenario.mode}`;
          assert.equal(
            textOf((await client.callTool({ name: "add-tool", arguments: { name } })) as Json),
            `added ${name}`,
          );
          await waitFor("tools/list_changed", () => announced);
          const tools = await client.listTools(undefined, { cacheMode: "refresh" });
          assert.ok(tools.tools.some((tool) => tool.name === name));
          assert.equal(textOf((await client.callTool({ name, arguments: {} })) as Json), `added tool ${name}`);
        } finally {
          await subscription?.close();
        }
      },
    );

    it("echoes the Mcp-* request headers; a tool with an invalid x-mcp-header is listed only where it is harmless", async () => {
      const result = await client.callTool({ name: "echo-mcp-headers", arguments: { region: "eu-west", priority: 3 } });
      const headers = JSON.parse(textOf(result as Json)) as Record<string, string>;
      const listed = (await client.listTools()).tools.some((tool) => tool.name === "invalid-mcp-header");
      if (scenario.wire === "stdio") {
        assert.deepEqual(headers, {});
        assert.equal(listed, true);
      } else if (modern) {
        assert.deepEqual(headers, {
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": "echo-mcp-headers",
          "mcp-param-region": "eu-west",
          "mcp-param-priority": "3",
        });
        assert.equal(listed, false, "a conforming 2026-07-28 HTTP client leaves the tool out");
      } else {
        assert.deepEqual(headers, { "mcp-protocol-version": client.getNegotiatedProtocolVersion() });
        assert.equal(listed, true);
      }
    });

    it("reports its process id, and crash ends the process", async () => {
      assert.equal(textOf((await client.callTool({ name: "pid", arguments: {} })) as Json), String(serverPid));
      await assert.rejects(client.callTool({ name: "crash", arguments: {} }));
      await waitFor("the fixture process to exit", () => !isAlive(serverPid));
    });
  });
}
