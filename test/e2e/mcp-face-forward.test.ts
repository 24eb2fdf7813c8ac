import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { StreamableHTTPClientTransport, type Client } from "@modelcontextprotocol/client";
import { run, stopAll, type Running } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { connectV2 } from "../helpers/v2-client.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Per-caller identity through the MCP face: a forwarding server (`--forward-header`) gives each MCP client the
 * upstream session of its own credentials, whichever era the client speaks, exactly as it does for REST callers.
 */
const FIXTURE = fileURLToPath(new URL("../fixtures/identity/server.ts", import.meta.url));

const ALICE = { authorization: "Bearer alice-token-5f1c", "x-openwebui-user-email": "alice@example.com" };
const BOB = { authorization: "Bearer bob-token-9a7e", "x-openwebui-user-email": "bob@example.com" };

interface Seen {
  headers: Record<string, string>;
  session: string | null;
  owner: string | null;
}

async function client(proxy: Proxy, who: Record<string, string>, era: "auto" | "legacy"): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), { requestInit: { headers: who } });
  return connectV2(transport, era);
}

async function whoami(mcp: Client, delayMs: number): Promise<Seen> {
  const result = await mcp.callTool({ name: "whoami", arguments: { delay_ms: delayMs } });
  const text = (result.content as { type: string; text: string }[])[0]!.text;
  return JSON.parse(text) as Seen;
}

for (const upstreamEra of ["legacy", "modern"] as const) {
  describe(`the MCP face of a forwarding server (${upstreamEra} upstream)`, () => {
    let upstream: Running;
    let proxy: Proxy;
    before(async () => {
      upstream = run(process.execPath, ["--import", "tsx", FIXTURE, upstreamEra]);
      const port = await waitFor(
        "the identity fixture to listen",
        () => /listening (\d+)/.exec(upstream.stdout())?.[1],
      );
      proxy = await startProxy(
        [
          "--server-type",
          "streamable-http",
          "--forward-header",
          "Authorization",
          "--forward-header",
          "X-OpenWebUI-User-*",
        ],
        [`http://127.0.0.1:${port}/mcp`],
      );
      await waitForHealth(proxy, 200);
    });
    after(async () => {
      await proxy?.stop();
      await stopAll();
    });

    for (const clientEra of ["legacy", "auto"] as const) {
      it(`gives two ${clientEra === "auto" ? "2026-07-28" : "2025"} MCP clients calling at once each its own upstream identity`, async () => {
        const alice = await client(proxy, ALICE, clientEra);
        const bob = await client(proxy, BOB, clientEra);
        try {
          const calls = Array.from({ length: 16 }, (_, index) => {
            const [mcp, who] = index % 2 === 0 ? [alice, ALICE] : [bob, BOB];
            return whoami(mcp, (index * 7) % 30).then((seen) => ({ seen, who }));
          });
          const sessions = new Map<string, Set<string | null>>();
          for (const { seen, who } of await Promise.all(calls)) {
            assert.equal(seen.headers.authorization, who.authorization, "the upstream saw the caller's own token");
            assert.equal(seen.headers["x-openwebui-user-email"], who["x-openwebui-user-email"]);
            if (seen.session !== null) assert.equal(seen.owner, who.authorization);
            sessions.set(who.authorization, (sessions.get(who.authorization) ?? new Set()).add(seen.session));
          }
          if (upstreamEra === "legacy") {
            const [a, b] = [[...sessions.get(ALICE.authorization)!], [...sessions.get(BOB.authorization)!]];
            assert.equal(a.length, 1);
            assert.equal(b.length, 1);
            assert.notEqual(a[0], b[0], "never one upstream session for two identities");
          }
        } finally {
          await Promise.all([alice.close(), bob.close()]);
        }
      });
    }

    it("refuses a 2025 session to a request with another caller's credentials (404, as an unknown session)", async () => {
      const alice = await client(proxy, ALICE, "legacy");
      try {
        const sessionId = (alice.transport as StreamableHTTPClientTransport).sessionId!;
        assert.ok(sessionId);
        const answer = await fetch(`${proxy.url}/mcp`, {
          method: "POST",
          headers: {
            ...BOB,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-session-id": sessionId,
            "mcp-protocol-version": "2025-11-25",
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
        assert.equal(answer.status, 404);
        const body = (await answer.json()) as { error: { code: number; message: string } };
        assert.equal(body.error.code, -32001);
        assert.match(body.error.message, /Session not found/);
        // Alice's session still works.
        assert.ok((await alice.listTools()).tools.some((tool) => tool.name === "whoami"));
      } finally {
        await alice.close();
      }
    });
  });
}
