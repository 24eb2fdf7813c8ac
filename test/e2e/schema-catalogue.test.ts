import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { CATALOGUE_TOOLS, LONG_NAME, LONG_NAME_TWIN, ODD_NAMES, SCHEMA_CASES } from "../fixtures/catalogue/index.js";
import { CATALOGUE_STDIO } from "../fixtures/index.js";
import { bodySchema, readPointer, toolOperation } from "../helpers/openapi.js";
import { stopAll } from "../helpers/processes.js";
import { startProxyWithDocument, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;

/** A 422's problems as comparable strings: `[loc, type]`. */
const problemKeys = (detail: Json[]): string[] => detail.map((p) => JSON.stringify([p.loc, p.type])).sort();

describe("every schema construct through the proxy (schema catalogue fixture over stdio)", () => {
  let proxy: Proxy;
  let doc: Json;

  before(async () => {
    ({ proxy, doc } = await startProxyWithDocument([], CATALOGUE_STDIO));
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  /** How many calls the fixture has received for `toolName`. */
  const upstreamCalls = async (toolName: string): Promise<number> => {
    const { body } = await proxy.post("/calls", {});
    return (body as Record<string, number>)[toolName] ?? 0;
  };

  it("serves every tool in a valid OpenAPI 3.1 document", async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
    const names = CATALOGUE_TOOLS.map((tool) => tool.name);
    const paths = Object.keys(doc.paths).filter((path) => doc.paths[path].post);
    assert.deepEqual(paths.sort(), names.map((name) => `/${encodeURIComponent(name)}`).sort());
  });

  for (const { tool, spec, valid, invalid } of SCHEMA_CASES) {
    it(`${tool.name}: kept in the spec, valid calls arrive unchanged, invalid ones get 422 here`, async () => {
      const path = `/${encodeURIComponent(tool.name)}`;
      const schema = bodySchema(doc, tool.name);
      for (const [pointer, expected] of spec) {
        assert.deepEqual(readPointer(doc, schema, pointer), expected, `spec ${pointer}`);
      }
      const before = await upstreamCalls(tool.name);
      for (const args of valid) {
        const { status, body } = await proxy.post(path, args);
        assert.equal(status, 200, `valid ${JSON.stringify(args)}: ${JSON.stringify(body)}`);
        assert.deepEqual(body, args, "the upstream received exactly what was sent");
      }
      for (const { args, problems } of invalid) {
        const { status, body } = await proxy.post(path, args);
        assert.equal(status, 422, `invalid ${JSON.stringify(args)}: ${JSON.stringify(body)}`);
        const expected = problems.map(([loc, type]) => JSON.stringify([["body", ...loc], type])).sort();
        assert.deepEqual(problemKeys((body as Json).detail), expected, `problems of ${JSON.stringify(args)}`);
        for (const problem of (body as Json).detail) assert.ok(problem.msg, "every problem says what is wrong");
      }
      assert.equal(await upstreamCalls(tool.name), before + valid.length, "no invalid call reached the upstream");
    });
  }

  it("gives odd and long tool names a route and a valid, unique operationId", async () => {
    const ids = Object.values(doc.paths)
      .flatMap((item: any) => [item.post?.operationId, item.get?.operationId])
      .filter((id) => id !== undefined);
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
    for (const id of ids) assert.match(id, /^[a-zA-Z0-9_-]{1,64}$/);
    assert.equal(toolOperation(doc, "odd_name").operationId, "odd_name", "a valid name keeps its id");
    assert.equal(toolOperation(doc, "odd name").operationId, "odd_name_2");
    assert.notEqual(toolOperation(doc, LONG_NAME).operationId, toolOperation(doc, LONG_NAME_TWIN).operationId);
    for (const name of [...ODD_NAMES, LONG_NAME]) {
      const answer = await proxy.post(`/${encodeURIComponent(name)}`, { q: "x" });
      assert.equal(answer.status, 200, name);
    }
  });

  it("calls a tool without parameters with an empty object, with or without a body, and never redirects", async () => {
    const before = await upstreamCalls("no-parameters");
    const noBody = await fetch(`${proxy.url}/no-parameters`, { method: "POST", redirect: "manual" });
    assert.equal(noBody.status, 200);
    assert.deepEqual(await noBody.json(), {}, "the upstream got {} rather than no arguments");
    const slash = await proxy.post("/no-parameters/", {});
    assert.equal(slash.status, 200, "a trailing slash is served, not redirected");
    const encodedSlash = await proxy.post(`/${encodeURIComponent(ODD_NAMES[0]!)}/`, { q: "x" });
    assert.equal(encodedSlash.status, 200);
    assert.equal(await upstreamCalls("no-parameters"), before + 2);
  });

  it("logs the $ref that points nowhere, and still serves the tool", async () => {
    const warnings = proxy
      .logs()
      .filter((line) => line.level === "warn" && String(line.msg).includes("#/$defs/Missing"));
    assert.ok(
      warnings.some((line) => String(line.msg).includes("points nowhere")),
      "the OpenAPI translation reports it",
    );
    assert.ok(
      warnings.some((line) => line.tool === "dangling-ref" && String(line.msg).includes("not validated")),
      "the validator reports it",
    );
    const others = proxy
      .logs()
      .filter((line) => line.level === "warn" && !String(line.msg).includes("#/$defs/Missing"));
    assert.deepEqual(others, [], "no other schema of the catalogue gives trouble");
  });
});
