import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { interpolateEnv } from "../../../src/config/interpolate.js";

describe("interpolateEnv", () => {
  it("replaces ${VAR} with its value", () => {
    const { value, problems } = interpolateEnv("Bearer ${TOKEN} for ${USER_1}", { TOKEN: "abc", USER_1: "me" });
    assert.equal(value, "Bearer abc for me");
    assert.deepEqual(problems, []);
  });

  it("uses the default of ${VAR:-default} when the variable is unset or empty, not when it is set", () => {
    assert.equal(interpolateEnv("${PORT:-8080}", {}).value, "8080");
    assert.equal(interpolateEnv("${PORT:-8080}", { PORT: "" }).value, "8080");
    assert.equal(interpolateEnv("${PORT:-8080}", { PORT: "9000" }).value, "9000");
    assert.equal(interpolateEnv("x${EMPTY:-}y", {}).value, "xy");
    assert.deepEqual(interpolateEnv("${PORT:-8080}", {}).problems, []);
  });

  it("keeps $${VAR} as the literal ${VAR}", () => {
    const { value, problems } = interpolateEnv("$${HOME} and $${X:-d}", { HOME: "/root" });
    assert.equal(value, "${HOME} and ${X:-d}");
    assert.deepEqual(problems, []);
  });

  it("walks nested objects and arrays, leaving non-strings untouched", () => {
    const input = {
      mcpServers: { x: { args: ["--key", "${KEY}"], env: { N: 1, B: true, Z: null }, nested: [{ deep: "${KEY}" }] } },
    };
    const { value, problems } = interpolateEnv(input, { KEY: "k" });
    assert.deepEqual(value, {
      mcpServers: { x: { args: ["--key", "k"], env: { N: 1, B: true, Z: null }, nested: [{ deep: "k" }] } },
    });
    assert.deepEqual(problems, []);
    assert.equal(interpolateEnv(42, {}).value, 42);
    assert.equal(interpolateEnv(null, {}).value, null);
    assert.equal(interpolateEnv(false, {}).value, false);
  });

  it("does not mutate its input", () => {
    const input = { a: ["${A}"], b: { c: "${A}" } };
    const { value } = interpolateEnv(input, { A: "1" });
    assert.deepEqual(input, { a: ["${A}"], b: { c: "${A}" } });
    assert.notEqual(value, input);
  });

  it("reports an unresolved variable with its path and leaves the placeholder as is", () => {
    const input = { mcpServers: { x: { headers: { A: "Bearer ${MISSING}" }, args: ["${ALSO_MISSING}"] } } };
    const { value, problems } = interpolateEnv(input, { OTHER: "1", MISSING: "" });
    assert.deepEqual(value, input);
    assert.deepEqual(problems, [
      {
        path: ["mcpServers", "x", "headers", "A"],
        message: "${MISSING} is not set (use ${MISSING:-default} for a default)",
      },
      {
        path: ["mcpServers", "x", "args", 0],
        message: "${ALSO_MISSING} is not set (use ${ALSO_MISSING:-default} for a default)",
      },
    ]);
  });

  it("leaves text that is not a placeholder alone", () => {
    for (const text of ["$VAR", "${1BAD}", "${}", "price: $5", "{VAR}"]) {
      assert.deepEqual(interpolateEnv(text, { VAR: "x" }), { value: text, problems: [] });
    }
  });
});
