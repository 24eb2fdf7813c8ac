import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  InvalidArgumentsError,
  ProxyError,
  UnknownToolError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "../../../src/errors/index.js";
import { classifyError, type ErrorContext } from "../../../src/upstream/classify-error.js";

const context: ErrorContext = {
  upstream: 'upstream "u"',
  operation: 'tool "t"',
  timeoutMs: 1500,
  retryAfterSeconds: 7,
};
const classify = (error: unknown) => classifyError(error, context);

describe("classifyError", () => {
  it("maps a request timeout to 504", () => {
    const error = new McpError(ErrorCode.RequestTimeout, "Request timed out");
    const result = classify(error);
    assert.ok(result instanceof UpstreamTimeoutError);
    assert.equal(result.httpStatus, 504);
    assert.equal(result.code, "upstream_timeout");
    assert.match(result.message, /1\.5 s/);
    assert.equal(result.cause, error);
  });

  it("maps a closed connection to 503 with Retry-After", () => {
    const result = classify(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    assert.ok(result instanceof UpstreamUnavailableError);
    assert.equal(result.httpStatus, 503);
    assert.equal(result.code, "upstream_unavailable");
    assert.equal(result.retryAfterSeconds, 7);
  });

  it("maps invalid params to 422 with the upstream's own words", () => {
    const error = new McpError(ErrorCode.InvalidParams, "a must be a number");
    assert.equal(error.message, "MCP error -32602: a must be a number");
    const result = classify(error);
    assert.ok(result instanceof InvalidArgumentsError);
    assert.equal(result.httpStatus, 422);
    assert.deepEqual(result.problems, [{ loc: ["body"], msg: "a must be a number", type: "upstream_invalid_params" }]);
  });

  it("maps the other JSON-RPC codes", () => {
    const cases: [number, number, string][] = [
      [ErrorCode.MethodNotFound, 404, "unknown_tool"],
      [ErrorCode.InvalidRequest, 400, "upstream_error"],
      [ErrorCode.ParseError, 400, "upstream_error"],
      [ErrorCode.InternalError, 500, "upstream_error"],
      [-31999, 502, "upstream_error"],
    ];
    for (const [code, httpStatus, proxyCode] of cases) {
      const result = classify(new McpError(code, "boom"));
      assert.equal(result.httpStatus, httpStatus, `code ${code}`);
      assert.equal(result.code, proxyCode, `code ${code}`);
    }
    assert.ok(classify(new McpError(ErrorCode.MethodNotFound, "x")) instanceof UnknownToolError);
  });

  it("maps HTTP errors from Streamable HTTP: a forgotten session is 503, auth is 502", () => {
    const gone = classify(new StreamableHTTPError(404, "Session not found"));
    assert.ok(gone instanceof UpstreamUnavailableError);
    assert.equal(gone.httpStatus, 503);
    assert.equal(gone.retryAfterSeconds, 7);
    const denied = classify(new StreamableHTTPError(401, "Unauthorized"));
    assert.ok(denied instanceof UpstreamProtocolError);
    assert.equal(denied.httpStatus, 502);
  });

  it("maps unreachable upstreams to 503", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const fetchFailed = new TypeError("fetch failed", { cause: refused });
    for (const error of [refused, fetchFailed, new Error("Not connected")]) {
      const result = classify(error);
      assert.ok(result instanceof UpstreamUnavailableError, error.message);
      assert.equal(result.httpStatus, 503);
      assert.equal(result.retryAfterSeconds, 7);
    }
    assert.match(classify(fetchFailed).message, /ECONNREFUSED/);
  });

  it("passes a ProxyError through unchanged", () => {
    const error = new UpstreamTimeoutError("already classified");
    assert.equal(classify(error), error);
    const base = new ProxyError("internal", 500, "x");
    assert.equal(classify(base), base);
  });

  it("maps any other error to 502", () => {
    const error = new Error("something odd");
    const result = classify(error);
    assert.ok(result instanceof UpstreamProtocolError);
    assert.equal(result.httpStatus, 502);
    assert.equal(result.code, "upstream_error");
    assert.match(result.message, /something odd/);
    assert.equal(result.cause, error);
    assert.equal(classify("a string").httpStatus, 502);
  });
});
