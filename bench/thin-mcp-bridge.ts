/**
 * The thinnest MCP-to-MCP bridge: one v2 `Client` of the upstream behind a
 * low-level v2 `Server` served over Streamable HTTP at POST /mcp, forwarding
 * `tools/list` and `tools/call` and nothing else. No validation, limits,
 * logging, cancellation, progress or timeouts beyond the SDK's: the
 * practical limit for any MCP gateway, and the yardstick mcpo-ts's MCP face
 * is compared with (as bench/thin-proxy.ts is for its REST face).
 *
 * Both protocol eras on the one endpoint, as the SDK's serving docs wire them:
 * - 2026-07-28: `createMcpHandler(factory, { legacy: 'reject' })`, a fresh
 *   `Server` per request, mounted with `toNodeHandler`;
 * - 2025 (sessions): one `NodeStreamableHTTPServerTransport` per session,
 *   created on `initialize` and found again by its `Mcp-Session-Id`.
 * The era is told by the request itself: a 2025 client sends `initialize`
 * first and the session id on everything after it, a 2026-07-28 one never
 * does. That reads one header instead of building a web `Request` for the
 * SDK's `isLegacyRequest` on every call, which a bridge this thin can afford
 * because it serves only well-behaved clients on loopback (no Host or Origin
 * checks either).
 *
 * The upstream client uses `versionNegotiation: { mode: 'auto' }`, as mcpo-ts
 * does by default, so it reaches a 2025 server and a 2026-07-28 one alike.
 *
 *   node thin-mcp-bridge.mjs stdio <command> [args...]
 *   node thin-mcp-bridge.mjs streamable-http <url>
 *
 * Prints "listening <port> <upstream era>" on stdout once the upstream is
 * connected. Self-contained (package imports only) so the bench can compile it
 * on its own.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { NodeStreamableHTTPServerTransport, toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, isInitializeRequest, Server } from "@modelcontextprotocol/server";

const [mode, target, ...args] = process.argv.slice(2);
if (!target) throw new Error("usage: thin-mcp-bridge stdio <command> [args...] | streamable-http <url>");
const upstream = new Client({ name: "thin-mcp-bridge", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
await upstream.connect(
  mode === "streamable-http"
    ? new StreamableHTTPClientTransport(new URL(target))
    : new StdioClientTransport({ command: target, args }),
);

/** The face: the two tool methods, passed through as they are (the caller's `_meta` stays on this side). */
function bridge(): Server {
  const server = new Server({ name: "thin-mcp-bridge", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler("tools/list", (request) => upstream.listTools(request.params));
  server.setRequestHandler("tools/call", (request) =>
    upstream.callTool({ name: request.params.name, arguments: request.params.arguments }),
  );
  return server;
}

const modern = toNodeHandler(createMcpHandler(bridge, { legacy: "reject" }));
const sessions = new Map<string, NodeStreamableHTTPServerTransport>();

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (req.method !== "POST") return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined; // the SDK answers the parse error
  }
}

const server = createServer((req, res) => {
  if (req.url !== "/mcp") {
    res.writeHead(404).end();
    return;
  }
  void (async () => {
    const body = await readJson(req);
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId === "string") {
      const transport = sessions.get(sessionId);
      if (transport) await transport.handleRequest(req, res, body);
      else res.writeHead(404).end();
    } else if (isInitializeRequest(body)) {
      const transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
      await bridge().connect(transport);
      await transport.handleRequest(req, res, body);
    } else {
      await modern(req, res, body);
    }
  })().catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(error));
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port} ${upstream.getProtocolEra()}\n`);
});

// Close the upstream client so a stdio upstream ends with us.
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([...sessions.values()].map((transport) => transport.close()))
    .then(() => upstream.close())
    .finally(() => process.exit(0));
});
