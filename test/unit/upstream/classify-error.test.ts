import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SseError,
  UnsupportedProtocolVersionError,
} from "@modelcontextprotocol/client";
import {
  InputRequiredError,
  InvalidArgumentsError,
  ProxyError,
  UnknownToolError,
  UpstreamIncompatibleError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "../../../src/errors/index.js";
import {
  ServerExitedError,
  classifyError,
  isBrokenStream,
  isLostSession,
  isUnreadableReply,
  type ErrorContext,
} from "../../../src/upstream/classify-error.js";
import { rescueReply } from "../../../src/upstream/unreadable-reply.js";

const context: ErrorContext = {
  upstream: 'upstream "u"',
  operation: 'tool "t"',
  timeoutMs: 1500,
  retryAfterSeconds: 7,
  incompatibleHint: "set protocol to auto",
};
const classify = (error: unknown) => classifyError(error, context);
const httpError = (status: number, message: string) =>
  new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, message, { status, statusText: message });

describe("classifyError", () => {
  it("maps a local request timeout to 504", () => {
    const error = new SdkError(SdkErrorCode.RequestTimeout, "Request timed out", { timeout: 1500 });
    const result = classify(error);
    assert.ok(result instanceof UpstreamTimeoutError);
    assert.equal(result.httpStatus, 504);
    assert.equal(result.code, "upstream_timeout");
    assert.match(result.message, /1\.5 s/);
    assert.equal(result.cause, error);
  });

  it("maps a closed or absent connection to 503 with Retry-After", () => {
    for (const code of [SdkErrorCode.ConnectionClosed, SdkErrorCode.NotConnected, SdkErrorCode.SendFailed]) {
      const result = classify(new SdkError(code, "gone"));
      assert.ok(result instanceof UpstreamUnavailableError, code);
      assert.equal(result.httpStatus, 503);
      assert.equal(result.code, "upstream_unavailable");
      assert.equal(result.retryAfterSeconds, 7);
    }
  });

  it("keeps the origin: the upstream's own -32001 or -32000 is its error, not our timeout or lost connection", () => {
    for (const code of [-32001, -32000]) {
      const result = classify(new ProtocolError(code, "the upstream said so"));
      assert.ok(result instanceof UpstreamProtocolError, String(code));
      assert.equal(result.httpStatus, 502);
      assert.match(result.message, /error -3200\d: the upstream said so/);
    }
  });

  it("maps invalid params to 422 with the upstream's own words", () => {
    const error = new ProtocolError(ProtocolErrorCode.InvalidParams, "a must be a number");
    assert.equal(error.message, "a must be a number", "v2 drops the 'MCP error N:' prefix");
    const result = classify(error);
    assert.ok(result instanceof InvalidArgumentsError);
    assert.equal(result.httpStatus, 422);
    assert.deepEqual(result.problems, [{ loc: ["body"], msg: "a must be a number", type: "upstream_invalid_params" }]);
  });

  it("maps an unknown tool (-32602 on v2 servers and 2026-07-28, -32601 elsewhere) to 404", () => {
    for (const error of [
      new ProtocolError(ProtocolErrorCode.InvalidParams, "Tool nope not found"),
      new ProtocolError(ProtocolErrorCode.InvalidParams, "Unknown tool: nope"),
      new ProtocolError(ProtocolErrorCode.MethodNotFound, "Method not found"),
    ]) {
      const result = classify(error);
      assert.ok(result instanceof UnknownToolError, error.message);
      assert.equal(result.httpStatus, 404);
      assert.equal(result.code, "unknown_tool");
    }
  });

  it("maps the other JSON-RPC codes", () => {
    const cases: [number, number, string][] = [
      [ProtocolErrorCode.InvalidRequest, 400, "upstream_error"],
      [ProtocolErrorCode.ParseError, 400, "upstream_error"],
      [ProtocolErrorCode.InternalError, 500, "upstream_error"],
      [-31999, 502, "upstream_error"],
    ];
    for (const [code, httpStatus, proxyCode] of cases) {
      const result = classify(new ProtocolError(code, "boom"));
      assert.equal(result.httpStatus, httpStatus, `code ${code}`);
      assert.equal(result.code, proxyCode, `code ${code}`);
    }
  });

  it("maps the 2026-07-28 version errors (-32020, -32022) to 502 upstream_incompatible naming both sides", () => {
    const unsupported = classify(
      new UnsupportedProtocolVersionError({ supported: ["2026-07-28"], requested: "2025-11-25" }),
    );
    assert.ok(unsupported instanceof UpstreamIncompatibleError);
    assert.equal(unsupported.httpStatus, 502);
    assert.equal(unsupported.code, "upstream_incompatible");
    assert.match(unsupported.message, /it supports 2026-07-28/);
    assert.match(unsupported.message, /set protocol to auto/);
    assert.deepEqual(unsupported.extra, { upstream_versions: ["2026-07-28"] });
    const header = classify(new ProtocolError(-32020, "MCP-Protocol-Version header missing"));
    assert.ok(header instanceof UpstreamIncompatibleError);
    assert.equal(header.httpStatus, 502);
  });

  it("reads a version refusal in the body of an HTTP 400 (a 2026-07-28 server refusing initialize)", () => {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      error: {
        code: -32022,
        message: "Unsupported protocol version: 2025-11-25",
        data: { supported: ["2026-07-28"], requested: "2025-11-25" },
      },
    });
    const refused = new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${body}`, {
      status: 400,
      statusText: "Bad Request",
    });
    const result = classify(refused);
    assert.ok(result instanceof UpstreamIncompatibleError);
    assert.deepEqual(result.extra, { upstream_versions: ["2026-07-28"] });
    const lost = httpError(
      400,
      `Error POSTing to endpoint: ${JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Bad Request: No valid session ID provided" } })}`,
    );
    assert.ok(classify(lost) instanceof UpstreamUnavailableError, "other JSON-RPC bodies keep their HTTP meaning");
  });

  it("maps a failed era negotiation to upstream_incompatible", () => {
    const result = classify(
      new SdkError(SdkErrorCode.EraNegotiationFailed, "the server did not offer pinned protocol version 2026-07-28"),
    );
    assert.ok(result instanceof UpstreamIncompatibleError);
    assert.match(result.message, /did not offer pinned protocol version 2026-07-28.*set protocol to auto/);
  });

  it("maps a probe stopped by an outage to 503, not to upstream_incompatible", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const network = new SdkError(
      SdkErrorCode.EraNegotiationFailed,
      "Version negotiation probe failed: fetch failed",
      { cause: refused },
      { cause: new TypeError("fetch failed", { cause: refused }) },
    );
    const closed = new SdkError(
      SdkErrorCode.EraNegotiationFailed,
      "Version negotiation failed: the connection closed during the server/discover probe",
    );
    const serverError = new SdkHttpError(
      SdkErrorCode.EraNegotiationFailed,
      "the server answered the probe with HTTP 502",
      {
        status: 502,
        statusText: "Bad Gateway",
      },
    );
    for (const error of [network, closed, serverError]) {
      const result = classifyError(error, { ...context, connecting: true });
      assert.ok(result instanceof UpstreamUnavailableError, error.message);
      assert.equal(result.httpStatus, 503);
    }
    assert.match(classify(network).message, /ECONNREFUSED/);
  });

  it("maps input the proxy cannot give to 409 input_required, with the URL of a URL elicitation", () => {
    const url = classify(
      new ProtocolError(ProtocolErrorCode.UrlElicitationRequired, "Authorize first", {
        elicitations: [{ mode: "url", url: "https://example.test/auth", message: "Authorize", elicitationId: "e1" }],
      }),
    );
    assert.ok(url instanceof InputRequiredError);
    assert.equal(url.httpStatus, 409);
    assert.equal(url.code, "input_required");
    assert.deepEqual(url.extra, { urls: ["https://example.test/auth"] });
    const capability = classify(
      new ProtocolError(
        ProtocolErrorCode.MissingRequiredClientCapability,
        "the request's client capabilities do not declare elicitation.url",
      ),
    );
    assert.ok(
      capability instanceof InputRequiredError,
      "-32021 on a call: the tool needs what a REST call cannot give",
    );
    assert.match(capability.message, /needs a client capability the proxy does not offer/);
    for (const code of [SdkErrorCode.CapabilityNotSupported, SdkErrorCode.InputRequiredRoundsExceeded]) {
      const result = classify(new SdkError(code, "sampling is not supported"));
      assert.ok(result instanceof InputRequiredError, code);
      assert.equal(result.httpStatus, 409);
    }
  });

  it("maps a result that breaks the schema to 502", () => {
    const result = classify(new SdkError(SdkErrorCode.InvalidResult, "resultType missing"));
    assert.ok(result instanceof UpstreamProtocolError);
    assert.equal(result.httpStatus, 502);
    assert.match(result.message, /resultType missing/);
  });

  it("maps HTTP errors while connecting: 404, 400 or 5xx is 503 (the retry loop tries again), auth is 502", () => {
    for (const error of [
      httpError(404, "Not found"),
      httpError(400, "Bad request"),
      httpError(503, "Busy"),
      new SseError(502, "Bad gateway", undefined as never),
    ]) {
      const result = classifyError(error, { ...context, operation: "connect", connecting: true });
      assert.ok(result instanceof UpstreamUnavailableError, error.message);
      assert.equal(result.httpStatus, 503);
      assert.equal(result.retryAfterSeconds, 7);
    }
    const auth = classifyError(httpError(401, "Unauthorized"), { ...context, connecting: true });
    assert.ok(auth instanceof UpstreamProtocolError);
  });

  it("maps HTTP errors on a session: only a lost session is 503; 500, 400, 413 fail the one call with 502", () => {
    for (const error of [httpError(404, "Session not found"), httpError(400, "Bad Request: No valid session ID")]) {
      const result = classify(error);
      assert.ok(result instanceof UpstreamUnavailableError, error.message);
      assert.equal(result.httpStatus, 503);
    }
    for (const [status, error] of [
      [500, httpError(500, "Internal Server Error")],
      [400, httpError(400, "Bad Request: malformed")],
      [413, httpError(413, "Payload Too Large")],
      [503, httpError(503, "Busy")],
      [502, new SseError(502, "Bad gateway", undefined as never)],
    ] as const) {
      const result = classify(error);
      assert.ok(result instanceof UpstreamProtocolError, error.message);
      assert.equal(result.httpStatus, 502);
      assert.match(result.message, new RegExp(`answered tool "t" with HTTP ${status}`));
    }
    for (const error of [httpError(401, "Unauthorized"), new SseError(403, "Forbidden", undefined as never)]) {
      const result = classify(error);
      assert.ok(result instanceof UpstreamProtocolError, error.message);
      assert.equal(result.httpStatus, 502);
      assert.match(result.message, /HTTP 40[13]/);
    }
  });

  it("tells a forgotten Streamable HTTP session (404, or 400 naming the session) from other HTTP errors", () => {
    assert.equal(isLostSession(httpError(404, "Not Found")), true);
    assert.equal(isLostSession(httpError(400, "Bad Request: No valid session ID provided")), true);
    assert.equal(isLostSession(httpError(400, "Bad Request: malformed")), false);
    assert.equal(isLostSession(httpError(500, "session store down")), false);
    assert.equal(isLostSession(new ProtocolError(-32600, "session")), false);
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

  it("never takes an upstream's own -32000 or -32001 for a closed connection or a timeout (STYLE 16)", () => {
    for (const code of [-32000, -32001]) {
      const result = classify(new ProtocolError(code, `the tool's own ${code}`));
      assert.ok(result instanceof UpstreamProtocolError, String(code));
      assert.equal(result.httpStatus, 502);
      assert.equal(result.message, `upstream "u" answered tool "t" with error ${code}: the tool's own ${code}`);
    }
    assert.ok(
      classify(new SdkError(SdkErrorCode.ConnectionClosed, "Connection closed")) instanceof UpstreamUnavailableError,
    );
    assert.ok(classify(new SdkError(SdkErrorCode.RequestTimeout, "Request timed out")) instanceof UpstreamTimeoutError);
  });

  it("says how a stdio server ended during connect, and an event stream failure without a status", () => {
    const exited = classifyError(
      new ServerExitedError("exited with code 3", new SdkError(SdkErrorCode.ConnectionClosed, "Connection closed")),
      {
        ...context,
        operation: "connect",
      },
    );
    assert.ok(exited instanceof UpstreamUnavailableError);
    assert.equal(exited.message, 'upstream "u": the server process exited with code 3 during connect');
    const stream = classify(new SseError(undefined, "TypeError: terminated", undefined as never));
    assert.ok(stream instanceof UpstreamUnavailableError);
    assert.doesNotMatch(stream.message, /HTTP/);
  });

  it("tells a broken stream from the failure of one POST", () => {
    assert.equal(isBrokenStream(new SseError(undefined, "network", undefined as never)), true);
    assert.equal(isBrokenStream(new Error("SSE stream disconnected: TypeError: terminated")), true);
    assert.equal(isBrokenStream(httpError(500, "Error POSTing to endpoint: boom")), false);
    assert.equal(isBrokenStream(new Error("Error POSTing to endpoint (HTTP 500): boom")), false);
  });

  it("fails a request at once on an answer it cannot read, marked as ours, never forgeable by the upstream", () => {
    const rescued = rescueReply('{"jsonrpc":"2.0","id":7,"result":null}');
    assert.ok(rescued && "error" in rescued);
    assert.equal(rescued.id, 7);
    const error = ProtocolError.fromError(rescued.error.code, rescued.error.message, rescued.error.data);
    assert.equal(isUnreadableReply(error), true);
    const result = classify(error);
    assert.ok(result instanceof UpstreamProtocolError);
    assert.equal(result.httpStatus, 502);
    assert.match(
      result.message,
      /sent an answer to tool "t" that the proxy cannot read \(its result is null, not an object\)/,
    );
    assert.match(rescueReply('{"jsonrpc":"2.0","id":"a","result":42}')!.error.message, /a number/);
    assert.equal(rescueReply('{"jsonrpc":"2.0","method":"notifications/x","params":null}'), undefined);
    assert.equal(rescueReply("not json"), undefined);
    assert.equal(rescueReply('{"jsonrpc":"2.0","result":null}'), undefined, "no id: nothing to fail");
    // The upstream sending the same shape of error is its own error, not ours.
    const forged = new ProtocolError(-32603, "unreadable answer", {
      mcpo_unreadable: "mcpo-unreadable-guess",
      reason: "x",
    });
    assert.equal(isUnreadableReply(forged), false);
  });
});
