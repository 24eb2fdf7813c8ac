import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../../src/log/logger.js";

/** A logger whose lines are kept, written synchronously. */
function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger("debug", stream), text: () => text };
}

describe("createLogger redacts URLs' credentials and query values", () => {
  it("in messages, string fields, logged errors (message, stack, cause) and error fields", () => {
    const { logger, text } = capture();
    const url = "http://user:secret@127.0.0.1:1/mcp?token=secret123";
    logger.warn({ reason: `lost ${url}` }, `connecting to ${url}`);
    logger.error({ err: new Error(`fetch ${url}`, { cause: new Error(`cause ${url}`) }) }, "failed");
    logger.info({ error: `plain ${url}`, upstream: "StreamableHTTP-http://127.0.0.1:1/mcp" }, "x");
    const lines = text().trim().split("\n");
    assert.equal(lines.length, 3);
    assert.ok(!text().includes("secret"), text());
    assert.match(lines[0]!, /connecting to http:\/\/127\.0\.0\.1:1\/mcp\?token=redacted/);
    assert.match(lines[1]!, /fetch http:\/\/127\.0\.0\.1:1\/mcp\?token=redacted/);
    assert.match(lines[2]!, /"upstream":"StreamableHTTP-http:\/\/127\.0\.0\.1:1\/mcp"/);
  });
});
