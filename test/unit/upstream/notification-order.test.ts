import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client, InMemoryTransport, type JSONRPCMessage, type Progress } from "@modelcontextprotocol/client";
import { keepNotificationOrder } from "../../../src/upstream/notification-order.js";

/**
 * A real SDK client on the in-memory pair, against a peer that answers tools/call the way a stdio server's
 * messages arrive: its progress notifications and its result in one synchronous run.
 */
async function connected(ordered: boolean): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const send = (message: Record<string, unknown>): void => {
    void serverSide.send({ jsonrpc: "2.0", ...message } as JSONRPCMessage);
  };
  serverSide.onmessage = (message) => {
    if (!("method" in message) || !("id" in message)) return;
    const params = (message.params ?? {}) as Record<string, any>;
    if (message.method === "initialize") {
      send({
        id: message.id,
        result: {
          protocolVersion: params.protocolVersion,
          capabilities: { tools: {}, logging: {} },
          serverInfo: { name: "peer", version: "1" },
        },
      });
    } else if (message.method === "tools/list") {
      send({ id: message.id, result: { tools: [{ name: "work", inputSchema: { type: "object" } }] } });
    } else if (message.method === "tools/call") {
      const progressToken = params._meta?.progressToken;
      send({ method: "notifications/progress", params: { progressToken, progress: 1, total: 2 } });
      send({ method: "notifications/progress", params: { progressToken, progress: 2, total: 2 } });
      send({ id: message.id, result: { content: [{ type: "text", text: "done" }] } });
    }
  };
  await serverSide.start();
  const client = new Client({ name: "test", version: "1" });
  client.onerror = () => undefined; // the SDK reports the dropped notifications here
  await client.connect(clientSide);
  if (ordered) keepNotificationOrder(clientSide);
  return client;
}

async function progressSeen(client: Client): Promise<number[]> {
  const seen: number[] = [];
  const result = await client.callTool(
    { name: "work", arguments: {} },
    { onprogress: (progress: Progress) => seen.push(progress.progress) },
  );
  assert.deepEqual(result.content, [{ type: "text", text: "done" }]);
  await client.close();
  return seen;
}

describe("keepNotificationOrder", () => {
  it("delivers the progress that arrives together with the result before the result", async () => {
    assert.deepEqual(await progressSeen(await connected(true)), [1, 2]);
  });

  it("is needed: the SDK alone settles the result first and drops that progress (typescript-sdk #2580)", async () => {
    // When this starts failing, the SDK keeps the order itself and notification-order.ts can go.
    assert.deepEqual(await progressSeen(await connected(false)), []);
  });
});
