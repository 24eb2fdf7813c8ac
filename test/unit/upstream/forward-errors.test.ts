import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkErrorCode, SdkHttpError, SseError } from "@modelcontextprotocol/client";
import { classifyError, type ErrorContext } from "../../../src/upstream/classify-error.js";

const context = (extra: Partial<ErrorContext> = {}): ErrorContext => ({
  upstream: 'upstream "gh"',
  operation: 'tool "whoami"',
  retryAfterSeconds: 1,
  ...extra,
});
const http = (status: number) =>
  new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: echoed Bearer s3cret`, {
    status,
    statusText: "x",
  });

describe("an upstream's 401 and 403 on a forwarding server", () => {
  it("are the caller's to fix: 401 upstream_unauthorized, 403 upstream_forbidden, connecting or not", () => {
    for (const connecting of [false, true]) {
      const unauthorized = classifyError(http(401), context({ credentials: true, connecting }));
      assert.equal(unauthorized.httpStatus, 401);
      assert.equal(unauthorized.code, "upstream_unauthorized");
      const forbidden = classifyError(http(403), context({ credentials: true, connecting }));
      assert.equal(forbidden.httpStatus, 403);
      assert.equal(forbidden.code, "upstream_forbidden");
    }
    // Legacy SSE reports the status of its event stream.
    const sse = classifyError(new SseError(401, "Unauthorized", undefined as never), context({ credentials: true }));
    assert.equal(sse.code, "upstream_unauthorized");
  });

  it("never quote the upstream's answer (it may echo the credential)", () => {
    for (const status of [401, 403]) {
      assert.ok(!classifyError(http(status), context({ credentials: true })).message.includes("s3cret"));
    }
  });

  it("stay as before on a server without forwarding", () => {
    assert.equal(classifyError(http(401), context()).code, "upstream_error");
    assert.equal(classifyError(http(403), context()).httpStatus, 502);
  });
});
