/**
 * The thin bridge of bench/thin-proxy.ts on the v1 SDK client
 * (`@modelcontextprotocol/sdk`, 2025 era only): POST /{tool} with a JSON body
 * calls the tool and answers the raw CallToolResult, nothing else. Not the
 * yardstick (that is the v2 bridge, as mcpo-ts runs the v2 client): it is
 * kept to show what the v1 to v2 client move costs any proxy.
 *
 *   node thin-proxy-v1.mjs stdio <command> [args...]
 *   node thin-proxy-v1.mjs streamable-http <url>
 *
 * Prints "listening <port>" on stdout once the upstream is connected.
 * Self-contained (package imports only) so the bench can compile it on its own.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, ...args] = process.argv.slice(2);
if (!target) throw new Error("usage: thin-proxy stdio <command> [args...] | streamable-http <url>");
const transport =
  mode === "streamable-http"
    ? new StreamableHTTPClientTransport(new URL(target))
    : new StdioClientTransport({ command: target, args });
const client = new Client({ name: "thin-proxy", version: "1.0.0" });
await client.connect(transport);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      res.writeHead(400).end();
      return;
    }
    client.callTool({ name: req.url!.slice(1), arguments: body }).then(
      (result) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result)),
      (error: unknown) => res.writeHead(502).end(String(error)),
    );
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

// Close the client so a stdio upstream ends with us.
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void client.close().finally(() => process.exit(0));
});
