import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  OPERATION_ID_PATTERN,
  OperationIdAllocator,
  allocateOperationIds,
  sanitizeOperationId,
} from "../../../src/catalog/operation-id.js";

describe("sanitizeOperationId", () => {
  it("keeps valid names and replaces every other character with _", () => {
    assert.equal(sanitizeOperationId("get_time-now2"), "get_time-now2");
    assert.equal(sanitizeOperationId("a.b c/d:é"), "a_b_c_d__");
  });

  it("turns an empty name into a valid id", () => {
    const id = sanitizeOperationId("");
    assert.equal(id, "tool");
    assert.match(id, OPERATION_ID_PATTERN);
  });

  it("truncates long names to 64 characters, keeping the head and a hash", () => {
    const name = "x".repeat(100);
    const id = sanitizeOperationId(name);
    assert.equal(id.length, 64);
    assert.ok(id.startsWith("x".repeat(55) + "_"));
    assert.match(id, /_[0-9a-f]{8}$/);
    assert.match(id, OPERATION_ID_PATTERN);
  });

  it("keeps two long names that share a 64-character prefix distinct", () => {
    const head = "a".repeat(64);
    const first = sanitizeOperationId(`${head}_one`);
    const second = sanitizeOperationId(`${head}_two`);
    assert.notEqual(first, second);
    assert.match(first, OPERATION_ID_PATTERN);
    assert.match(second, OPERATION_ID_PATTERN);
  });

  it("always yields an id matching the pattern", () => {
    for (const name of ["", "ü", "a".repeat(64), "a".repeat(65), "🙂".repeat(40), "ns/tool.v2", "-"]) {
      assert.match(sanitizeOperationId(name), OPERATION_ID_PATTERN, JSON.stringify(name));
    }
  });
});

describe("OperationIdAllocator", () => {
  it("gives distinct ids to names that sanitize alike", () => {
    const ids = new OperationIdAllocator();
    const first = ids.allocate("a.b");
    const second = ids.allocate("a_b");
    assert.equal(first, "a_b");
    assert.equal(second, "a_b_2");
    assert.match(second, OPERATION_ID_PATTERN);
  });

  it("stays unique when a later name equals an earlier suffixed id", () => {
    const ids = new OperationIdAllocator();
    const allocated = ["a b", "a.b", "a_b_2", "a_b"].map((name) => ids.allocate(name));
    assert.equal(new Set(allocated).size, allocated.length);
    for (const id of allocated) assert.match(id, OPERATION_ID_PATTERN);
  });

  it("keeps suffixed ids of long names within 64 characters", () => {
    const ids = new OperationIdAllocator();
    const long = "b".repeat(64);
    const first = ids.allocate(long);
    const second = ids.allocate(long);
    assert.notEqual(first, second);
    assert.equal(second.length, 64);
    assert.ok(second.endsWith("_2"));
    assert.match(second, OPERATION_ID_PATTERN);
  });
});

describe("allocateOperationIds", () => {
  it("lets a name that is a valid id keep it, even when an odd name listed first sanitizes to it", () => {
    const ids = allocateOperationIds(["odd name", "odd_name", "odd.name", "plain"]);
    assert.deepEqual(
      [...ids],
      [
        ["odd_name", "odd_name"],
        ["plain", "plain"],
        ["odd name", "odd_name_2"],
        ["odd.name", "odd_name_3"],
      ],
    );
  });

  it("gives a name listed twice one id", () => {
    assert.deepEqual(
      [...allocateOperationIds(["a", "a", "b c", "b c"])],
      [
        ["a", "a"],
        ["b c", "b_c"],
      ],
    );
  });
});
