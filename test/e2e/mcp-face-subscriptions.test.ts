import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StreamableHTTPClientTransport, type Client } from "@modelcontextprotocol/client";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { connectV2 } from "../helpers/v2-client.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Resource subscriptions through the MCP face (2025 sessions): the upstream's `notifications/resources/updated`
 * reaches the session that subscribed, and no other; server-everything sends updates for its subscribed resources
 * every 5 s once `toggle-subscriber-updates` is called. A session opened while the upstream still connects is built
 * on what it turns out to offer. And `--no-mcp` serves REST only.
 */
describe("MCP face: resource subscriptions", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy([], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  async function session(): Promise<{ client: Client; updates: string[] }> {
    const client = await connectV2(new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`)), "legacy");
    const updates: string[] = [];
    client.setNotificationHandler("notifications/resources/updated", (notification) => {
      updates.push(notification.params.uri);
    });
    return { client, updates };
  }

  it("passes an update to the session that subscribed, not to another", async () => {
    const watcher = await session();
    const bystander = await session();
    try {
      assert.equal(watcher.client.getServerCapabilities()?.resources?.subscribe, true);
      const { resources } = await watcher.client.listResources();
      const uri = resources[0]!.uri;
      assert.deepEqual(await watcher.client.subscribeResource({ uri }), {});
      await watcher.client.callTool({ name: "toggle-subscriber-updates", arguments: {} });
      await waitFor("an update of the subscribed resource", () => watcher.updates.includes(uri) || undefined, 12_000);
      assert.deepEqual(bystander.updates, [], "a session that did not subscribe hears nothing");
      assert.deepEqual(await watcher.client.unsubscribeResource({ uri }), {});
    } finally {
      await Promise.all([watcher.client.close(), bystander.client.close()]);
    }
  });
});

describe("MCP face: a client that comes before its upstream is connected", () => {
  after(stopAll);

  it("gets a session built on what the upstream offers, not on the nothing known yet", async () => {
    const proxy = await startProxy([], EVERYTHING_STDIO);
    try {
      // At once: the stdio server is still starting (about a second); the initialize waits for its first outcome.
      const client = await connectV2(new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`)), "legacy");
      try {
        const capabilities = client.getServerCapabilities();
        assert.ok(capabilities?.prompts, JSON.stringify(capabilities));
        assert.ok(capabilities?.resources, JSON.stringify(capabilities));
        assert.ok((await client.listPrompts()).prompts.length > 0);
        assert.ok((await client.listTools()).tools.some((tool) => tool.name === "echo"));
      } finally {
        await client.close();
      }
    } finally {
      await proxy.stop();
    }
  });
});

describe("--no-mcp", () => {
  after(stopAll);

  it("serves REST only: /mcp is then a tool route like any other name", async () => {
    const proxy = await startProxy(["--no-mcp"], EVERYTHING_STDIO);
    try {
      await waitForHealth(proxy, 200);
      const initialize = {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "0" } },
      };
      const answer = await proxy.post("/mcp", initialize, { accept: "application/json, text/event-stream" });
      assert.equal(answer.status, 404);
      assert.equal((answer.body as { detail: { code: string } }).detail.code, "unknown_tool");
      assert.equal((await proxy.get("/sse")).status, 404);
      assert.equal((await proxy.post("/echo", { message: "still REST" })).body, "Echo: still REST");
    } finally {
      await proxy.stop();
    }
  });
});
