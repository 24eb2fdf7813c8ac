import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/client";
import { classifyError } from "../../../src/upstream/classify-error.js";
import { UnencodableMessageError } from "../../../src/upstream/transports/errors.js";
import { ProcessGroupStdioTransport } from "../../../src/upstream/transports/stdio.js";

const SERVER = fileURLToPath(new URL("../../fixtures/hostile/raw-server.mjs", import.meta.url));

/** 100,000 levels of `[[[...]]]`: JSON.stringify runs out of stack on it. */
function deeplyNested(): unknown {
  let value: unknown = 1;
  for (let i = 0; i < 100_000; i++) value = [value];
  return value;
}

describe("ProcessGroupStdioTransport against a real server", () => {
  let transport: ProcessGroupStdioTransport;
  let client: Client;
  before(async () => {
    transport = new ProcessGroupStdioTransport({
      command: process.execPath,
      args: [SERVER],
      env: { PATH: process.env.PATH ?? "" },
      onStderrLine: () => undefined,
    });
    client = new Client({ name: "test", version: "1" }, { versionNegotiation: { mode: "legacy" } });
    await client.connect(transport);
  });
  after(() => client.close());

  it("never throws from send(): a message that cannot be encoded gives a rejected promise", async () => {
    let sent: Promise<void> | undefined;
    assert.doesNotThrow(() => {
      sent = transport.send({
        jsonrpc: "2.0",
        id: 999,
        method: "tools/call",
        params: { arguments: { deep: deeplyNested() } },
      });
    });
    await assert.rejects(sent!, UnencodableMessageError);
  });

  it("fails a call with a deep argument at once with a 400, cleans up after it, and keeps the connection", async () => {
    const started = Date.now();
    const error = await client
      .callTool({ name: "echo", arguments: { deep: deeplyNested() } }, { timeout: 30_000, onprogress: () => undefined })
      .then(
        () => assert.fail("the call should fail"),
        (reason: unknown) => reason,
      );
    assert.ok(Date.now() - started < 5000, "not after the tool timeout");
    assert.ok(error instanceof UnencodableMessageError, String(error));
    const proxyError = classifyError(error, {
      upstream: 'upstream "hostile"',
      operation: 'tool "echo"',
      retryAfterSeconds: 1,
    });
    assert.equal(proxyError.httpStatus, 400);
    assert.match(
      proxyError.message,
      /^tool "echo" was not sent to upstream "hostile": the request cannot be encoded as JSON \(Maximum call stack size exceeded\)$/,
    );
    // The SDK dropped the call's progress handler at once (a synchronous throw left it behind for good).
    assert.equal((client as unknown as { _progressHandlers: Map<number, unknown> })._progressHandlers.size, 0);
    const echo = await client.callTool({ name: "echo", arguments: { after: "deep" } });
    assert.deepEqual(echo.content, [{ type: "text", text: '{"after":"deep"}' }]);
  });
});
