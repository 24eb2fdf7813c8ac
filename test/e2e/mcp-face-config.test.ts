/**
 * The MCP face in config mode: one endpoint per server at `/{server}/mcp`, and the aggregated `/mcp` with every
 * server's tools as `{server}__{tool}`, following hot reload and announcing what changed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { V2_STDIO } from "../fixtures/v2/index.js";
import { configFile } from "../helpers/config-file.js";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { CLIENT_KINDS, connectClient, rejection, type ClientKind } from "../helpers/mcp-clients.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const stdio = ([command, ...args]: readonly string[]) => ({ command: command!, args });
const settings = { retry_delay: 0.05, max_retry_delay: 0.2 };
const SERVERS = {
  everything: stdio(EVERYTHING_STDIO),
  fixture: stdio(FIXTURE_STDIO),
  // A server with a key of its own is reached at its own endpoint only: the aggregate takes the global key.
  keyed: { ...stdio(V2_STDIO.dual), api_key: "keyed-only" },
};

async function ready(proxy: Proxy, names: string[]): Promise<void> {
  await waitFor(
    `${names.join(", ")} ready`,
    async () => {
      const servers = ((await proxy.get("/health")).body as Json).servers as Json;
      return names.every((name) => servers[name]?.details.state === "ready");
    },
    20_000,
  );
}

/** A server's tools at its own endpoint, named as the aggregate names them. */
async function prefixedTools(proxy: Proxy, server: string, kind: ClientKind): Promise<Json[]> {
  const client = await connectClient(kind, `${proxy.url}/${server}/mcp`);
  const tools = await client.listTools();
  await client.close();
  return tools.map((tool) => ({ ...tool, name: `${server}__${tool.name}` }));
}

describe("MCP face in config mode", () => {
  let proxy: Proxy;
  let config: ReturnType<typeof configFile>;
  before(async () => {
    config = configFile({ mcpServers: SERVERS, connection_settings: settings });
    proxy = await startProxy(["--config", config.path, "--hot-reload"], []);
    await ready(proxy, Object.keys(SERVERS));
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("serves each server at /{server}/mcp under its own names", async () => {
    for (const kind of CLIENT_KINDS) {
      const everything = await connectClient(kind, `${proxy.url}/everything/mcp`);
      const names = (await everything.listTools()).map((tool) => tool.name);
      assert.ok(names.includes("echo") && names.includes("trigger-long-running-operation"), `${kind}: ${names}`);
      assert.deepEqual((await everything.callTool("echo", { message: kind })).content, [
        { type: "text", text: `Echo: ${kind}` },
      ]);
      assert.ok((await everything.listPrompts()).prompts.some((prompt: Json) => prompt.name === "args-prompt"));
      await everything.close();
      const fixture = await connectClient(kind, `${proxy.url}/fixture/mcp`);
      assert.ok(
        (await fixture.listTools()).some((tool) => tool.name === "pid"),
        kind,
      );
      assert.equal(fixture.capabilities?.prompts, undefined, "the fixture offers no prompts: none declared");
      await fixture.close();
    }
  });

  it("asks a server's own key at its endpoint", async () => {
    const refused = await fetch(`${proxy.url}/keyed/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
      }),
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const client = await connectClient("v2 2025", `${proxy.url}/keyed/mcp`, {
      headers: { authorization: "Bearer keyed-only" },
    });
    assert.deepEqual((await client.callTool("echo", { message: "mine" })).content, [
      { type: "text", text: "Echo: mine" },
    ]);
    await client.close();
  });

  it("lists every server's tools at /mcp as {server}__{tool} (a keyed server left out) and calls them", async () => {
    for (const kind of CLIENT_KINDS) {
      const expected = [
        ...(await prefixedTools(proxy, "everything", kind)),
        ...(await prefixedTools(proxy, "fixture", kind)),
      ];
      const client = await connectClient(kind, `${proxy.url}/mcp`);
      const tools = await client.listTools();
      assert.deepEqual(tools, expected, `${kind}: names prefixed, all else as each server's own endpoint lists it`);
      assert.deepEqual((await client.callTool("everything__echo", { message: kind })).content, [
        { type: "text", text: `Echo: ${kind}` },
      ]);
      const pid = await client.callTool("fixture__pid", {});
      assert.match(pid.content[0].text, /^\d+$/);
      const prompts = (await client.listPrompts()).prompts.map((prompt: Json) => prompt.name);
      assert.ok(prompts.includes("everything__args-prompt"), `${kind}: ${prompts}`);
      const prompt = await client.getPrompt("everything__args-prompt", { city: "Oslo" });
      assert.match(JSON.stringify(prompt.messages), /Oslo/);
      const unknown = await rejection(client.callTool("nobody__echo", {}));
      assert.equal(unknown.code, -32602, kind);
      const keyed = await rejection(client.callTool("keyed__echo", { message: "x" }));
      assert.equal(keyed.code, -32602, `${kind}: a keyed server is not part of the aggregate`);
      await client.close();
    }
  });

  it("passes an upstream's tools/list_changed on to a 2025 session of its endpoint and of the aggregate", async () => {
    const own = await connectClient("v2 2025", `${proxy.url}/fixture/mcp`);
    const aggregate = await connectClient("v1", `${proxy.url}/mcp`);
    await own.callTool("add-tool", { name: "grown" });
    const changed = "notifications/tools/list_changed";
    await waitFor("list_changed on both", () => own.changed[changed]! >= 1 && aggregate.changed[changed]! >= 1);
    assert.ok((await own.listTools()).some((tool) => tool.name === "grown"));
    assert.ok((await aggregate.listTools()).some((tool) => tool.name === "fixture__grown"));
    await own.close();
    await aggregate.close();
  });

  it("follows hot reload: an added server's tools appear, announced by list_changed; a removed one's are gone", async () => {
    const session = await connectClient("v2 2025", `${proxy.url}/mcp`);
    const modern = await connectClient("v2 2026-07-28", `${proxy.url}/mcp`);
    const changed = "notifications/tools/list_changed";
    const before = session.changed[changed] ?? 0;

    config.write({ mcpServers: { ...SERVERS, more: stdio(V2_STDIO.dual) }, connection_settings: settings });
    await ready(proxy, ["more"]);
    await waitFor("list_changed for the added server", () => (session.changed[changed] ?? 0) > before);
    for (const client of [session, modern]) {
      const names = await waitFor(`${client.kind} to list more__echo`, async () => {
        const listed = (await client.listTools()).map((tool) => tool.name);
        return listed.includes("more__echo") ? listed : undefined;
      });
      assert.ok(names.includes("everything__echo"), "the others stay");
      assert.deepEqual((await client.callTool("more__echo", { message: "new" })).content, [
        { type: "text", text: "Echo: new" },
      ]);
    }

    const added = session.changed[changed]!;
    config.write({
      mcpServers: { everything: SERVERS.everything, keyed: SERVERS.keyed },
      connection_settings: settings,
    });
    await waitFor("list_changed for the removed servers", () => session.changed[changed]! > added);
    for (const client of [session, modern]) {
      const names = (await client.listTools()).map((tool) => tool.name);
      assert.ok(!names.some((name) => name.startsWith("more__") || name.startsWith("fixture__")), `${names}`);
      assert.ok(names.includes("everything__echo"));
      assert.equal((await rejection(client.callTool("more__echo", { message: "x" }))).code, -32602);
    }
    await session.close();
    await modern.close();
  });
});
