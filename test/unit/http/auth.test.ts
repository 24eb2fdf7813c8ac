import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { createAuthorize } from "../../../src/http/auth.js";

const request = (key?: string): IncomingMessage =>
  ({ headers: key === undefined ? {} : { authorization: `Bearer ${key}` } }) as IncomingMessage;

describe("createAuthorize", () => {
  it("needs the key for tool calls; for other routes only with --strict-auth", () => {
    const open = createAuthorize({ apiKey: "k", strictAuth: false });
    assert.equal(open(request(), undefined, false), undefined);
    assert.equal(open(request(), undefined, true)?.code, "unauthorized");
    assert.equal(open(request("x"), undefined, true)?.code, "forbidden");
    assert.equal(open(request("k"), undefined, true), undefined);
    const strict = createAuthorize({ apiKey: "k", strictAuth: true });
    assert.equal(strict(request(), undefined, false)?.code, "unauthorized");
    assert.equal(strict(request("k"), undefined, false), undefined);
  });

  it("uses a server's own key for its routes, the global key for the rest", () => {
    const authorize = createAuthorize({ apiKey: "global", strictAuth: true });
    const server = { apiKey: "own" };
    assert.equal(authorize(request("own"), server, true), undefined);
    assert.equal(authorize(request("global"), server, true)?.code, "forbidden");
    assert.equal(authorize(request("own"), server, false), undefined);
    assert.equal(authorize(request("global"), { apiKey: undefined }, true), undefined);
  });

  it("lets everything through without a key", () => {
    assert.equal(createAuthorize({ strictAuth: false })(request(), undefined, true), undefined);
  });
});
