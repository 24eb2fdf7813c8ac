import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/client";
import { InvalidArgumentsError, ItemNotFoundError, UnknownToolError } from "../../../src/errors/index.js";
import { classifyError, type ErrorContext } from "../../../src/upstream/classify-error.js";

const on = (operation: string): ErrorContext => ({ upstream: 'upstream "u"', operation, retryAfterSeconds: 1 });

describe("classifyError: a resource or prompt the upstream does not have", () => {
  it("is 404 not_found for -32002 (2025 servers of earlier SDKs)", () => {
    const error = new ProtocolError(ProtocolErrorCode.ResourceNotFound, "Resource not found", { uri: "a://b" });
    const mapped = classifyError(error, on('resource "a://b"'));
    assert.ok(mapped instanceof ItemNotFoundError);
    assert.equal(mapped.httpStatus, 404);
    assert.equal(mapped.code, "not_found");
    assert.equal(mapped.message, 'upstream "u" has no resource "a://b": Resource not found');
  });

  it("is 404 for -32602 carrying the URI (2026-07-28) or saying not found (the v1 SDK), on a resource or prompt", () => {
    const withUri = new ProtocolError(ProtocolErrorCode.InvalidParams, "Resource a://b missing", { uri: "a://b" });
    assert.ok(classifyError(withUri, on('resource "a://b"')) instanceof ItemNotFoundError);
    const v1 = new ProtocolError(ProtocolErrorCode.InvalidParams, "MCP error -32602: Prompt p not found");
    const prompt = classifyError(v1, on('prompt "p"'));
    assert.ok(prompt instanceof ItemNotFoundError);
    assert.equal(prompt.message, 'upstream "u" has no prompt "p": Prompt p not found');
  });

  it("leaves other -32602 answers invalid arguments, and a tool's not found unknown_tool", () => {
    const invalid = new ProtocolError(ProtocolErrorCode.InvalidParams, "city must be a string");
    assert.ok(classifyError(invalid, on('prompt "p"')) instanceof InvalidArgumentsError);
    const tool = new ProtocolError(ProtocolErrorCode.InvalidParams, "Tool t not found");
    assert.ok(classifyError(tool, on('tool "t"')) instanceof UnknownToolError);
  });
});
