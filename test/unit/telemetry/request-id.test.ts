import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isValidRequestId, requestIdFrom } from "../../../src/telemetry/request-id.js";

describe("request ids", () => {
  it("accepts 1 to 128 letters, digits, dots, underscores, colons and hyphens", () => {
    for (const id of ["a", "A.b_c:d-9", "0".repeat(128), "5f0c2f6e-3c2b-4a7e-9d8e-1b2c3d4e5f60"]) {
      assert.equal(isValidRequestId(id), true, id);
    }
  });

  it("refuses an empty, too long, spaced, multi-line or otherwise odd id", () => {
    for (const id of ["", "0".repeat(129), "a b", "a\nb", "a\r\nX-Evil: 1", "a,b", "a/b", "é", "a;b", "{x}"]) {
      assert.equal(isValidRequestId(id), false, JSON.stringify(id));
    }
  });

  it("keeps a valid header, and makes a new UUID for an invalid, repeated or missing one", () => {
    assert.equal(requestIdFrom("gw-42"), "gw-42");
    const uuid = /^[0-9a-f-]{36}$/;
    assert.match(requestIdFrom("bad id"), uuid);
    assert.match(requestIdFrom(undefined), uuid);
    assert.match(requestIdFrom(["a", "b"]), uuid);
    assert.notEqual(requestIdFrom(undefined), requestIdFrom(undefined));
  });
});
