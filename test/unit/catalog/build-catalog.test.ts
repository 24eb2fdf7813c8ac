import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tool } from "@modelcontextprotocol/client";
import { buildCatalog, titleCase } from "../../../src/catalog/build-catalog.js";
import { silentLogger } from "../../../src/log/logger.js";

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: "object" }, ...extra });
const build = (tools: Tool[], operationIdPrefix = "") =>
  buildCatalog(tools, { operationIdPrefix, logger: silentLogger() });

describe("buildCatalog", () => {
  it("mounts each tool at its URL-encoded name", () => {
    const { routes } = build([tool("echo"), tool("a b/c")]);
    assert.deepEqual(
      routes.map((r) => [r.toolName, r.path]),
      [
        ["echo", "/echo"],
        ["a b/c", "/a%20b%2Fc"],
      ],
    );
  });

  it("prefixes operationIds with the server name when asked", () => {
    assert.equal(build([tool("create_issue")], "github").routes[0]?.operationId, "github_create_issue");
    assert.equal(build([tool("create_issue")]).routes[0]?.operationId, "create_issue");
    assert.equal(build([tool("a b")]).routes[0]?.operationId, "a_b");
  });

  it("takes the summary from title, then annotations.title, then the name", () => {
    const { byName } = build([
      tool("one", { title: "Title One", annotations: { title: "Annotated One" } }),
      tool("two", { annotations: { title: "Annotated Two" } }),
      tool("get_current-time"),
    ]);
    assert.equal(byName.get("one")?.summary, "Title One");
    assert.equal(byName.get("two")?.summary, "Annotated Two");
    assert.equal(byName.get("get_current-time")?.summary, "Get Current Time");
  });

  it("falls back to the summary when the description is missing or blank", () => {
    const { byName } = build([
      tool("described", { description: "  Does things.  " }),
      tool("missing"),
      tool("blank", { description: "   " }),
    ]);
    assert.equal(byName.get("described")?.description, "Does things.");
    assert.equal(byName.get("missing")?.description, "Missing");
    assert.equal(byName.get("blank")?.description, "Blank");
  });

  it("keeps the first of two tools with the same name", () => {
    const { routes, byName } = build([tool("dup", { description: "first" }), tool("dup", { description: "second" })]);
    assert.equal(routes.length, 1);
    assert.equal(byName.get("dup")?.description, "first");
    assert.equal(byName.get("dup")?.operationId, "dup");
  });

  it("looks routes up by tool name and compiles their validators", () => {
    const inputSchema = { type: "object" as const, properties: { n: { type: "number" } }, required: ["n"] };
    const outputSchema = { type: "object" as const, properties: { r: { type: "string" } } };
    const { routes, byName } = build([
      tool("calc", { inputSchema, outputSchema, annotations: { readOnlyHint: true } }),
    ]);
    const route = byName.get("calc");
    assert.equal(route, routes[0]);
    assert.equal(byName.get("other"), undefined);
    assert.deepEqual(route?.inputSchema, inputSchema);
    assert.deepEqual(route?.outputSchema, outputSchema);
    assert.deepEqual(route?.annotations, { readOnlyHint: true });
    assert.equal(route?.validate({ n: 1 }), null);
    assert.deepEqual(route?.validate({}), [{ loc: ["body", "n"], msg: "Field required", type: "missing" }]);
  });

  it("leaves outputSchema and annotations out when the tool has none", () => {
    const route = build([tool("plain")]).routes[0];
    assert.ok(route);
    assert.equal("outputSchema" in route, false);
    assert.equal("annotations" in route, false);
  });
});

describe("titleCase", () => {
  it("splits on _, - and spaces and capitalises each word", () => {
    assert.equal(titleCase("get_current-time"), "Get Current Time");
    assert.equal(titleCase("echo"), "Echo");
    assert.equal(titleCase("__a  b--c__"), "A B C");
  });
});
