import assert from "node:assert/strict";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { listToolsDirectly } from "../helpers/list-tools.js";
import { assertOpenWebUiReadsEveryTool } from "../helpers/open-webui-check.js";
import { bodySchema, toolOperation } from "../helpers/openapi.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;

const entry = (name: string): string =>
  fileURLToPath(import.meta.resolve(`@modelcontextprotocol/${name}/dist/index.js`));

/** A public MCP server from npm, run over stdio, with one call that must work and one that must be refused. */
interface RealServer {
  target: (dir: string) => string[];
  env?: (dir: string) => Record<string, string>;
  call: { tool: string; args: (dir: string) => Json; expect: (body: any) => void };
  invalid: { tool: string; args: Json; problems: string[] };
}

const SERVERS: Record<string, RealServer> = {
  filesystem: {
    target: (dir) => [process.execPath, entry("server-filesystem"), dir],
    call: {
      tool: "read_text_file",
      args: (dir) => ({ path: join(dir, "hello.txt") }),
      expect: (body) => assert.deepEqual(body, { content: "hello from the test" }),
    },
    // No coercion: "1" is not a number, even if the server's own zod might have taken it.
    invalid: { tool: "read_text_file", args: { head: "1" }, problems: ["body.path:missing", "body.head:number_type"] },
  },
  memory: {
    target: () => [process.execPath, entry("server-memory")],
    env: (dir) => ({ MEMORY_FILE_PATH: join(dir, "memory.jsonl") }),
    call: {
      tool: "create_entities",
      args: () => ({ entities: [{ name: "mcpo-ts", entityType: "project", observations: ["serves MCP as REST"] }] }),
      expect: (body) => assert.equal(body.entities[0].name, "mcpo-ts"),
    },
    invalid: {
      tool: "create_entities",
      args: { entities: [{ name: "x" }] },
      problems: ["body.entities.0.entityType:missing", "body.entities.0.observations:missing"],
    },
  },
  "sequential-thinking": {
    target: () => [process.execPath, entry("server-sequential-thinking")],
    call: {
      tool: "sequentialthinking",
      args: () => ({ thought: "first", nextThoughtNeeded: true, thoughtNumber: 1, totalThoughts: 2 }),
      expect: (body) => assert.equal(body.thoughtNumber, 1),
    },
    invalid: {
      tool: "sequentialthinking",
      args: { thought: "x", nextThoughtNeeded: true, thoughtNumber: 0, totalThoughts: 1 },
      problems: ["body.thoughtNumber:minimum"],
    },
  },
};

describe("real MCP servers from npm, over stdio through the CLI", () => {
  let dir: string;
  const served: Record<string, { proxy: Proxy; tools: Tool[]; doc: Json }> = {};

  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), "mcpo-ts-real-")));
    await writeFile(join(dir, "hello.txt"), "hello from the test");
    await Promise.all(
      Object.entries(SERVERS).map(async ([name, server]) => {
        const env = server.env?.(dir) ?? {};
        const options = Object.entries(env).flatMap(([key, value]) => ["--env", `${key}=${value}`]);
        const [proxy, tools] = await Promise.all([
          startProxy(options, server.target(dir)),
          listToolsDirectly(server.target(dir), env),
        ]);
        await waitForHealth(proxy, 200);
        served[name] = { proxy, tools, doc: (await proxy.get("/openapi.json")).body as Json };
      }),
    );
  });
  after(async () => {
    await Promise.all(Object.values(served).map(({ proxy }) => proxy.stop()));
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, server] of Object.entries(SERVERS)) {
    it(`${name}: serves and documents every tool it lists, in a valid spec`, async () => {
      const { tools, doc, proxy } = served[name]!;
      assert.ok(tools.length > 0);
      await SwaggerParser.validate(structuredClone(doc) as never);
      // Tool routes only: resource and prompt routes (POST /resources/read, /prompts/{name}) have two segments.
      const paths = Object.keys(doc.paths).filter(
        (path) => doc.paths[path].post && !/^\/(resources|prompts)\//.test(path),
      );
      assert.deepEqual(paths.sort(), tools.map((tool) => `/${encodeURIComponent(tool.name)}`).sort());
      for (const tool of tools) {
        const operation = toolOperation(doc, tool.name);
        assert.ok(operation.description, `${tool.name} has a description`);
        const declared = Object.keys(tool.inputSchema.properties ?? {}).sort();
        assert.deepEqual(Object.keys(bodySchema(doc, tool.name)?.properties ?? {}).sort(), declared, tool.name);
        if (tool.outputSchema) assert.ok(operation.responses["200"].content["application/json"].schema.properties);
      }
      const warnings = proxy.logs().filter((line) => line.level === "warn" || line.level === "error");
      assert.deepEqual(warnings, [], "no schema gives trouble");
    });

    it(`${name}: Open WebUI reads every tool with its parameters`, () => {
      const { tools, doc } = served[name]!;
      assert.equal(assertOpenWebUiReadsEveryTool(doc, tools).size, tools.length);
    });

    it(`${name}: a valid call works, an invalid one gets 422 with every problem`, async () => {
      const { proxy } = served[name]!;
      const answer = await proxy.post(`/${server.call.tool}`, server.call.args(dir));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      server.call.expect(answer.body);
      const refused = await proxy.post(`/${server.invalid.tool}`, server.invalid.args);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      const problems = (refused.body as Json).detail.map((p: Json) => `${p.loc.join(".")}:${p.type}`);
      assert.deepEqual(problems.sort(), [...server.invalid.problems].sort());
    });
  }
});
