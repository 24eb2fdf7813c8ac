import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client, type Transport } from "@modelcontextprotocol/client";
import {
  EXIT_ON_PROBE_STDIO,
  MODERN_REVISION,
  startV2Http,
  V2_SERVER_INFO,
  V2_STDIO,
  type V2EraMode,
} from "../fixtures/v2/index.js";
import { stopAll } from "../helpers/processes.js";
import { connectV2, v2Transport } from "../helpers/v2-client.js";
import { isAlive, waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

/** A transport factory per fixture and wire; HTTP fixtures are started once and stopped in after(). */
async function upstream(era: V2EraMode, wire: "stdio" | "http"): Promise<() => Transport> {
  if (wire === "stdio") return () => v2Transport({ stdio: V2_STDIO[era] });
  const { url } = await startV2Http({ era });
  return () => v2Transport({ url });
}

async function echo(client: Client, message: string): Promise<string> {
  const result = await client.callTool({ name: "echo", arguments: { message } });
  return (result.content as Json[])[0]!.text as string;
}

describe("v2 fixtures, proved with the v2 client alone", () => {
  after(stopAll);

  for (const wire of ["stdio", "http"] as const) {
    describe(`modern-only over ${wire === "http" ? "Streamable HTTP" : "stdio"}`, () => {
      it("is reached by an auto client on the 2026-07-28 era", async () => {
        const client = await connectV2((await upstream("modern-only", wire))(), "auto");
        try {
          assert.equal(client.getProtocolEra(), "modern");
          assert.equal(client.getNegotiatedProtocolVersion(), MODERN_REVISION);
          assert.deepEqual(client.getServerVersion(), V2_SERVER_INFO);
          assert.equal(await echo(client, "modern"), "Echo: modern");
        } finally {
          await client.close();
        }
      });

      it("refuses a default (2025 initialize) client with -32022", async () => {
        const transport = (await upstream("modern-only", wire))();
        const refused = connectV2(transport, "legacy");
        if (wire === "stdio") {
          // serveStdio answers initialize with the error in-band and keeps the pipe open for a modern opening.
          await assert.rejects(refused, { code: -32022, message: /Unsupported protocol version: 2025-/ });
          await transport.close();
        } else {
          // createMcpHandler answers HTTP 400 with the JSON-RPC error; the 2025 client surfaces an SdkHttpError.
          await assert.rejects(refused, (error: Json) => {
            assert.equal(error.status, 400);
            assert.match(error.message, /"code":-32022/);
            assert.deepEqual(error.data && JSON.parse(error.data.text).error.data.supported, [MODERN_REVISION]);
            return true;
          });
        }
      });
    });

    describe(`dual over ${wire === "http" ? "Streamable HTTP" : "stdio"}`, () => {
      it("is reached on the modern era by an auto client and on the legacy era by a default one", async () => {
        const transport = await upstream("dual", wire);
        const modern = await connectV2(transport(), "auto");
        const legacy = await connectV2(transport(), "legacy");
        try {
          assert.equal(modern.getProtocolEra(), "modern");
          assert.equal(modern.getNegotiatedProtocolVersion(), MODERN_REVISION);
          assert.equal(legacy.getProtocolEra(), "legacy");
          assert.match(legacy.getNegotiatedProtocolVersion() ?? "", /^2025-\d\d-\d\d$/);
          assert.deepEqual(legacy.getServerVersion(), V2_SERVER_INFO);
          assert.equal(await echo(modern, "modern"), "Echo: modern");
          assert.equal(await echo(legacy, "legacy"), "Echo: legacy");
        } finally {
          await Promise.all([modern.close(), legacy.close()]);
        }
      });
    });
  }

  describe("exit-on-probe (2025-only, stdio)", () => {
    it("exits when a request comes before initialize", async () => {
      const [command, ...args] = EXIT_ON_PROBE_STDIO;
      const transport = new StdioClientTransport({ command: command!, args, stderr: "pipe" });
      let stderr = "";
      transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      let closed = false;
      transport.onclose = () => (closed = true);
      await transport.start();
      const pid = transport.pid!;
      await transport.send({ jsonrpc: "2.0", id: 1, method: "server/discover", params: {} });
      await waitFor("the transport to close", () => closed);
      await waitFor("the server process to be gone", () => !isAlive(pid));
      assert.match(stderr, /exit-on-probe: server\/discover before initialize, exiting/);
    });

    it("serves echo after a plain initialize, and an auto client reaches it through the SDK's probe sibling", async () => {
      for (const mode of ["legacy", "auto"] as const) {
        const client = await connectV2(v2Transport({ stdio: EXIT_ON_PROBE_STDIO }), mode);
        try {
          assert.equal(client.getProtocolEra(), "legacy", mode);
          assert.equal(await echo(client, mode), `Echo: ${mode}`);
        } finally {
          await client.close();
        }
      }
    });
  });
});
