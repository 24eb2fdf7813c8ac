import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactText, redactUrl, UpstreamUnavailableError } from "../../../src/errors/index.js";

describe("redactUrl", () => {
  it("drops the userinfo and the fragment, and replaces every query value (names kept)", () => {
    assert.equal(
      redactUrl("http://user:secret@127.0.0.1:8080/mcp?token=secret123&a=1#frag"),
      "http://127.0.0.1:8080/mcp?token=redacted&a=redacted",
    );
    assert.equal(redactUrl("https://user@host"), "https://host");
    assert.equal(redactUrl("https://a:b@c@host/x?"), "https://host/x?");
    assert.equal(redactUrl("https://host/p?flag"), "https://host/p?flag=redacted");
  });

  it("leaves a URL without secrets, and a text that is no URL, as they are", () => {
    assert.equal(redactUrl("https://host:1/mcp/"), "https://host:1/mcp/");
    assert.equal(redactUrl("not a url"), "not a url");
  });
});

describe("redactText", () => {
  it("redacts every URL in a message, keeping the sentence around it", () => {
    assert.equal(
      redactText(
        "Request cannot be constructed from a URL that includes credentials: http://u:secret@h/mcp?token=secret123.",
      ),
      "Request cannot be constructed from a URL that includes credentials: http://h/mcp?token=redacted.",
    );
    assert.equal(
      redactText('failed (see "https://x:y@a/b?k=v") and (http://c/d?e=f)'),
      'failed (see "https://a/b?k=redacted") and (http://c/d?e=redacted)',
    );
  });

  it("returns a text without a URL unchanged", () => {
    const text = "connect ECONNREFUSED 127.0.0.1:9";
    assert.equal(redactText(text), text);
  });

  it("is applied to every ProxyError message, so no 503 body can carry a URL's secrets", () => {
    const error = new UpstreamUnavailableError("upstream failed: http://user:secret@h/mcp?token=secret123", 1);
    assert.equal(error.message, "upstream failed: http://h/mcp?token=redacted");
  });
});
