import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { configFile } from "../helpers/config-file.js";
import { EVERYTHING_ENTRY, EVERYTHING_STDIO, startEverything, type RemoteServer } from "../helpers/everything.js";
import { callAsOpenWebUi, convertOpenApi } from "../helpers/open-webui.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

/** Our prompts fixture (prompts, no resources; adds a prompt on a tool call): see test/fixtures/prompts-server.ts. */
const PROMPTS_STDIO = [
  process.execPath,
  "--import",
  "tsx",
  fileURLToPath(new URL("../fixtures/prompts-server.ts", import.meta.url)),
];

/** server-everything's resources: one per file of its docs folder. */
const EVERYTHING_RESOURCES = [
  "architecture.md",
  "extension.md",
  "features.md",
  "how-it-works.md",
  "instructions.md",
  "startup.md",
  "structure.md",
];
const EVERYTHING_TEMPLATES = ["demo://resource/dynamic/text/{resourceId}", "demo://resource/dynamic/blob/{resourceId}"];
const EVERYTHING_PROMPTS = ["simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"];
const STATIC = "demo://resource/static/document/";
const read = (uri: string): string => `/resources/read?uri=${encodeURIComponent(uri)}`;

for (const transport of ["stdio", "streamableHttp"] as const) {
  describe(`server-everything's resources and prompts over REST (${transport})`, () => {
    let proxy: Proxy;
    let upstream: RemoteServer | undefined;

    before(async () => {
      if (transport === "stdio") {
        proxy = await startProxy([], EVERYTHING_STDIO);
      } else {
        upstream = await startEverything("streamableHttp");
        proxy = await startProxy(["--type", "streamable-http"], [upstream.url]);
      }
      await waitForHealth(proxy, 200);
    });
    after(async () => {
      await proxy?.stop();
      await upstream?.stop();
    });

    it("lists its 7 resources, 2 templates and 4 prompts, each list in one page", async () => {
      const resources = await proxy.get("/resources");
      assert.equal(resources.status, 200);
      assert.deepEqual(
        (resources.body as Json).resources.map((resource: Json) => resource.name),
        EVERYTHING_RESOURCES,
      );
      assert.deepEqual(
        (resources.body as Json).resources.map((resource: Json) => resource.uri),
        EVERYTHING_RESOURCES.map((name) => `${STATIC}${name}`),
      );
      assert.equal((resources.body as Json).nextCursor, undefined, "one page");
      const templates = await proxy.get("/resources/templates");
      assert.equal(templates.status, 200);
      assert.deepEqual(
        (templates.body as Json).resourceTemplates.map((template: Json) => template.uriTemplate),
        EVERYTHING_TEMPLATES,
      );
      const prompts = await proxy.get("/prompts");
      assert.equal(prompts.status, 200);
      assert.deepEqual(
        (prompts.body as Json).prompts.map((prompt: Json) => prompt.name),
        EVERYTHING_PROMPTS,
      );
      assert.deepEqual(Object.keys(prompts.body as Json), ["prompts"]);
      const index = (await proxy.get("/")).body as Json;
      assert.deepEqual(
        [index.resources, index.resource_templates, index.prompts],
        ["/resources", "/resources/templates", "/prompts"],
      );
    });

    it("reads a text resource by GET and by POST, as MCP gives it", async () => {
      const uri = `${STATIC}features.md`;
      const byQuery = await proxy.get(read(uri));
      assert.equal(byQuery.status, 200, byQuery.text);
      const [item] = (byQuery.body as Json).contents;
      assert.equal(item.uri, uri);
      assert.equal(item.mimeType, "text/markdown");
      assert.match(item.text, /\S/);
      const byBody = await proxy.post("/resources/read", { uri });
      assert.equal(byBody.status, 200);
      assert.deepEqual(byBody.body, byQuery.body);
    });

    it("reads a blob as base64 in JSON by default, and as its own bytes when Accept names its type", async () => {
      const uri = "demo://resource/dynamic/blob/3";
      const json = await proxy.get(read(uri));
      assert.equal(json.status, 200);
      const [item] = (json.body as Json).contents;
      assert.equal(item.mimeType, "text/plain");
      const decoded = Buffer.from(item.blob, "base64").toString();
      assert.match(decoded, /^Resource 3: This is a base64 blob created at /);

      const raw = await proxy.get(read(uri), { accept: "text/plain" });
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get("content-type"), "text/plain");
      assert.equal(raw.headers.get("x-content-type-options"), "nosniff");
      assert.equal(raw.headers.get("vary"), "Accept");
      assert.equal(json.headers.get("vary"), "Accept");
      assert.match(raw.headers.get("content-security-policy") ?? "", /sandbox/);
      assert.match(raw.text, /^Resource 3: This is a base64 blob created at /);
      const range = await proxy.get(read(uri), { accept: "text/*" });
      assert.match(range.text, /^Resource 3: /, "a range of its type also chooses the bytes");
      for (const accept of ["*/*", "application/json", "text/plain;q=0.5, application/json"]) {
        const answer = await proxy.get(read(uri), { accept });
        assert.match(answer.headers.get("content-type") ?? "", /^application\/json/, accept);
        assert.equal((answer.body as Json).contents[0].blob.length > 0, true);
      }
    });

    it("reads a text resource as text/plain bytes, and a URI expanded from a template", async () => {
      const raw = await proxy.post(
        "/resources/read",
        { uri: "demo://resource/dynamic/text/5" },
        { accept: "text/plain" },
      );
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.match(raw.text, /^Resource 5: This is a plaintext resource created at /);
    });

    it("gets each prompt with its arguments (POST body, or GET query)", async () => {
      const simple = await proxy.post("/prompts/simple-prompt", undefined);
      assert.equal(simple.status, 200);
      assert.deepEqual(simple.body, {
        messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt without arguments." } }],
      });
      const args = await proxy.post("/prompts/args-prompt", { city: "Paris", state: "Texas" });
      assert.equal(args.status, 200);
      assert.equal((args.body as Json).messages[0].content.text, "What's weather in Paris, Texas?");
      const completable = await proxy.post("/prompts/completable-prompt", { department: "Sales", name: "Eve" });
      assert.equal(
        (completable.body as Json).messages[0].content.text,
        "Please promote Eve to the head of the Sales team.",
      );
      const embedded = await proxy.get("/prompts/resource-prompt?resourceType=Text&resourceId=2");
      assert.equal(embedded.status, 200);
      const [intro, resource] = (embedded.body as Json).messages;
      assert.match(intro.content.text, /Text resource with id: 2/);
      assert.equal(resource.content.type, "resource");
      assert.equal(resource.content.resource.uri, "demo://resource/dynamic/text/2");
      const byQuery = await proxy.get("/prompts/args-prompt?city=Oslo");
      assert.equal((byQuery.body as Json).messages[0].content.text, "What's weather in Oslo?");
    });

    it("answers 422 for missing, non-string or unknown prompt arguments, and for a missing uri", async () => {
      const missing = await proxy.post("/prompts/args-prompt", { state: "Texas" });
      assert.equal(missing.status, 422);
      assert.deepEqual((missing.body as Json).detail, [
        { loc: ["body", "city"], msg: "Field required", type: "missing" },
      ]);
      const typed = await proxy.post("/prompts/args-prompt", { city: 5 });
      assert.equal(typed.status, 422);
      assert.deepEqual((typed.body as Json).detail[0].loc, ["body", "city"]);
      assert.equal((typed.body as Json).detail[0].type, "string_type");
      const extra = await proxy.post("/prompts/args-prompt", { city: "Rome", zip: "00100" });
      assert.equal(extra.status, 422);
      assert.deepEqual((extra.body as Json).detail[0].loc, ["body", "zip"]);
      assert.equal((extra.body as Json).detail[0].type, "extra_forbidden");
      const notObject = await proxy.post("/prompts/args-prompt", ["Rome"]);
      assert.equal(notObject.status, 422);
      const queryMissing = await proxy.get("/prompts/args-prompt");
      assert.equal(queryMissing.status, 422);
      assert.deepEqual((queryMissing.body as Json).detail[0].loc, ["query", "city"]);

      const noUri = await proxy.get("/resources/read");
      assert.equal(noUri.status, 422);
      assert.deepEqual((noUri.body as Json).detail, [
        { loc: ["query", "uri"], msg: "Field required", type: "missing" },
      ]);
      const noBodyUri = await proxy.post("/resources/read", {});
      assert.equal(noBodyUri.status, 422);
      assert.deepEqual((noBodyUri.body as Json).detail[0].loc, ["body", "uri"]);
      const numberUri = await proxy.post("/resources/read", { uri: 7 });
      assert.equal(numberUri.status, 422);
      assert.equal((numberUri.body as Json).detail[0].type, "string_type");
      const malformed = await proxy.post("/resources/read", "{not json");
      assert.equal(malformed.status, 400);
      const badTimeout = await proxy.get("/resources", { "x-tool-timeout": "soon" });
      assert.equal(badTimeout.status, 400);
    });

    it("answers 404 not_found for an unknown prompt or resource, with the upstream's words", async () => {
      const prompt = await proxy.post("/prompts/no-such-prompt", {});
      assert.equal(prompt.status, 404);
      assert.equal((prompt.body as Json).detail.code, "not_found");
      assert.match(
        (prompt.body as Json).detail.message,
        /has no prompt "no-such-prompt": Prompt no-such-prompt not found/,
      );
      const resource = await proxy.post("/resources/read", { uri: "demo://nothing/here" });
      assert.equal(resource.status, 404);
      assert.equal((resource.body as Json).detail.code, "not_found");
      assert.match((resource.body as Json).detail.message, /has no resource "demo:\/\/nothing\/here"/);
    });

    it("answers 500 upstream_error when the upstream fails a prompt, with its words", async () => {
      const failed = await proxy.get("/prompts/resource-prompt?resourceType=Nope&resourceId=1");
      assert.equal(failed.status, 500);
      assert.equal((failed.body as Json).detail.code, "upstream_error");
      assert.match((failed.body as Json).detail.message, /Invalid resourceType: Nope/);
    });

    // Last: it adds a resource to the session.
    it("follows resources/list_changed, and serves a binary resource's bytes as they are", async () => {
      const original = "hello, resources\n".repeat(20);
      const data = `data:text/plain;base64,${Buffer.from(original).toString("base64")}`;
      const made = await proxy.post("/gzip-file-as-resource", { name: "hello.txt.gz", data });
      assert.equal(made.status, 200, made.text);
      const uri = "demo://resource/session/hello.txt.gz";
      const doc = await waitFor("the new resource in the document", async () => {
        const got = (await proxy.get("/openapi.json")).body as Json;
        const examples = got.paths["/resources/read"].post.requestBody.content["application/json"].schema.properties.uri
          .examples as string[];
        return examples.includes(uri) ? got : undefined;
      });
      assert.ok(doc);
      const listed = (await proxy.get("/resources")).body as Json;
      assert.equal(listed.resources.length, EVERYTHING_RESOURCES.length + 1);
      const response = await fetch(`${proxy.url}${read(uri)}`, { headers: { accept: "application/gzip" } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/gzip");
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(gunzipSync(bytes).toString(), original, "the bytes are the gzip file itself");
      const json = await proxy.get(read(uri));
      assert.deepEqual(Buffer.from((json.body as Json).contents[0].blob, "base64"), bytes);
    });
  });
}

describe("the OpenAPI document of server-everything's resources and prompts", () => {
  let proxy: Proxy;
  let doc: Json;

  before(async () => {
    proxy = await startProxy([], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    doc = (await proxy.get("/openapi.json")).body as Json;
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("documents every route, each prompt on its own path, in a valid document", async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
    const ids = (path: string): Json =>
      Object.fromEntries(
        Object.entries(doc.paths[path] ?? {}).map(([method, op]) => [method, (op as Json).operationId]),
      );
    assert.deepEqual(ids("/resources"), { get: "list_resources" });
    assert.deepEqual(ids("/resources/templates"), { get: "list_resource_templates" });
    assert.deepEqual(ids("/resources/read"), { post: "read_resource", get: undefined });
    assert.deepEqual(ids("/prompts"), { get: "list_prompts" });
    for (const name of EVERYTHING_PROMPTS) {
      assert.deepEqual(ids(`/prompts/${name}`), { post: `get_prompt_${name}`, get: undefined }, name);
    }
    const args = doc.paths["/prompts/args-prompt"].post.requestBody.content["application/json"].schema;
    assert.deepEqual(args.required, ["city"]);
    assert.deepEqual(args.properties.city, { type: "string", description: "Name of the city" });
    assert.equal(doc.paths["/prompts/simple-prompt"].post.requestBody, undefined, "no arguments, no body");
    assert.deepEqual(
      doc.paths["/prompts/args-prompt"].get.parameters.map((p: Json) => [p.name, p.in, p.required]),
      [
        ["city", "query", true],
        ["state", "query", false],
      ],
    );
    const uri = doc.paths["/resources/read"].post.requestBody.content["application/json"].schema.properties.uri;
    assert.deepEqual(
      uri.examples,
      EVERYTHING_RESOURCES.map((name) => `${STATIC}${name}`),
    );
    for (const template of EVERYTHING_TEMPLATES) assert.ok(uri.description.includes(template), template);
  });

  it("is read by Open WebUI: read_resource and every get_prompt_* are tools it can call", async () => {
    const tools = new Map(convertOpenApi(doc).map((tool) => [tool.name, tool]));
    for (const name of ["list_resources", "list_resource_templates", "read_resource", "list_prompts"]) {
      assert.ok(tools.has(name), name);
    }
    for (const name of EVERYTHING_PROMPTS) assert.ok(tools.has(`get_prompt_${name}`), name);
    for (const name of tools.keys()) assert.match(name, /^[a-zA-Z0-9_-]{1,64}$/);
    assert.deepEqual(tools.get("read_resource")!.parameters.required, ["uri"]);
    assert.deepEqual(tools.get("get_prompt_args-prompt")!.parameters.required, ["city"]);
    const readAnswer = await callAsOpenWebUi(proxy.url, doc, "read_resource", { uri: `${STATIC}startup.md` });
    assert.equal(readAnswer.status, 200);
    assert.equal((readAnswer.body as Json).contents[0].uri, `${STATIC}startup.md`);
    const promptAnswer = await callAsOpenWebUi(proxy.url, doc, "get_prompt_args-prompt", { city: "Lima" });
    assert.equal(promptAnswer.status, 200);
    assert.equal((promptAnswer.body as Json).messages[0].content.text, "What's weather in Lima?");
  });
});

describe("servers without resources or prompts", () => {
  after(stopAll);

  it("answers 404 on their routes and leaves them out of the document", async () => {
    const proxy = await startProxy([], FIXTURE_STDIO);
    await waitForHealth(proxy, 200);
    for (const path of ["/resources", "/resources/templates", read("x://y"), "/prompts", "/prompts/any"]) {
      const answer = await proxy.get(path);
      assert.equal(answer.status, 404, path);
      assert.equal((answer.body as Json).detail.code, "not_found");
      assert.match((answer.body as Json).detail.message, /offers no (resources|prompts)$/, path);
    }
    assert.equal((await proxy.post("/resources/read", { uri: "x://y" })).status, 404);
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.deepEqual(
      Object.keys(doc.paths).filter((path) => /^\/(resources|prompts)(\/|$)/.test(path)),
      [],
    );
    assert.equal(doc.components.schemas.McpResource, undefined);
    const index = (await proxy.get("/")).body as Json;
    assert.deepEqual([index.resources, index.prompts], [undefined, undefined], "the index links none");
    await proxy.stop();
  });
});

describe("auth and origin checks on resource and prompt routes", () => {
  after(stopAll);

  it("refuses them without the API key (401) or with a wrong one (403), and serves them with it", async () => {
    const proxy = await startProxy(["--api-key", "top-secret"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    const key = { authorization: "Bearer top-secret" };
    for (const [method, path] of [
      ["GET", "/resources"],
      ["GET", "/resources/templates"],
      ["GET", read(`${STATIC}features.md`)],
      ["POST", "/resources/read"],
      ["GET", "/prompts"],
      ["POST", "/prompts/simple-prompt"],
    ] as const) {
      const call = (headers: Record<string, string>) =>
        method === "GET"
          ? proxy.get(path, headers)
          : proxy.post(path, path.endsWith("read") ? { uri: `${STATIC}features.md` } : {}, headers);
      assert.equal((await call({})).status, 401, `${method} ${path} without a key`);
      assert.equal((await call({ authorization: "Bearer wrong" })).status, 403, `${method} ${path} wrong key`);
      assert.equal((await call(key)).status, 200, `${method} ${path} with the key`);
    }
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.deepEqual(doc.paths["/resources/read"].post.security, [{ bearerAuth: [] }]);
    await proxy.stop();
  });

  it("refuses a cross-origin browser request (403 origin_not_allowed), as a tool call is", async () => {
    const proxy = await startProxy(["--cors-allow-origins", "https://chat.example"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    const evil = { origin: "https://evil.example" };
    const post = await proxy.post("/prompts/args-prompt", { city: "x" }, evil);
    assert.equal(post.status, 403);
    assert.equal((post.body as Json).detail.code, "origin_not_allowed");
    const form = await proxy.post("/resources/read", "uri=x", { ...evil, "content-type": "text/plain" });
    assert.equal(form.status, 403);
    assert.equal((await proxy.get("/resources", evil)).status, 403);
    assert.equal((await proxy.get("/resources", { origin: "https://chat.example" })).status, 200);
    await proxy.stop();
  });
});

describe("an upstream that is down", () => {
  after(stopAll);

  it("answers 503 with Retry-After, as a tool call is answered", async () => {
    const upstream = await startEverything("streamableHttp");
    const proxy = await startProxy(
      ["--type", "streamable-http", "--connection-timeout", "2", "--retry-delay", "30", "--max-retry-delay", "30"],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
    await upstream.stop();
    const answer = await waitFor("a 503", async () => {
      const got = await proxy.get("/prompts");
      return got.status === 503 ? got : undefined;
    });
    assert.equal((answer.body as Json).detail.code, "upstream_unavailable");
    assert.ok(Number(answer.headers.get("retry-after")) >= 1);
    await proxy.stop();
  });
});

describe("config mode", () => {
  let proxy: Proxy;

  before(async () => {
    const config = configFile({
      mcpServers: {
        everything: { command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] },
        greeter: { command: PROMPTS_STDIO[0], args: PROMPTS_STDIO.slice(1) },
      },
    });
    proxy = await startProxy(["--config", config.path], []);
    await waitFor("both servers ready", async () => {
      const servers = ((await proxy.get("/health")).body as Json).servers as Json;
      return ["everything", "greeter"].every((name) => servers[name]?.details.state === "ready");
    });
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("serves each server's routes under its name", async () => {
    const resources = await proxy.get("/everything/resources");
    assert.equal((resources.body as Json).resources.length, EVERYTHING_RESOURCES.length);
    const greeting = await proxy.post("/greeter/prompts/greet", { name: "Ada", greeting: "Hi" });
    assert.equal(greeting.status, 200);
    assert.deepEqual(greeting.body, {
      description: "A greeting",
      messages: [{ role: "user", content: { type: "text", text: "Hi, Ada!" } }],
    });
    assert.equal((await proxy.get("/greeter/resources")).status, 404, "the greeter has no resources");
  });

  it("documents them in the root document with the server's prefix, and in each server's own", async () => {
    const root = (await proxy.get("/openapi.json")).body as Json;
    await SwaggerParser.validate(structuredClone(root) as never);
    assert.equal(root.paths["/everything/resources/read"].post.operationId, "everything_read_resource");
    assert.equal(root.paths["/everything/prompts/args-prompt"].post.operationId, "everything_get_prompt_args-prompt");
    assert.equal(root.paths["/greeter/prompts/greet"].post.operationId, "greeter_get_prompt_greet");
    assert.equal(root.paths["/greeter/prompts"].get.operationId, "greeter_list_prompts");
    assert.deepEqual(root.paths["/greeter/prompts/greet"].post.tags, ["greeter"]);
    assert.equal(root.paths["/greeter/resources"], undefined);
    const own = (await proxy.get("/everything/openapi.json")).body as Json;
    assert.equal(own.paths["/resources/read"].post.operationId, "read_resource");
    const names = convertOpenApi(root).map((tool) => tool.name);
    assert.equal(new Set(names).size, names.length, "operationIds are unique");
  });
});

for (const protocol of ["auto", "legacy"] as const) {
  describe(`prompts/list_changed from a v2 server (${protocol === "auto" ? "2026-07-28" : "2025-11-25"})`, () => {
    after(stopAll);

    it("pages the prompt list, and documents a prompt added upstream once the server says so", async () => {
      const proxy = await startProxy(["--protocol", protocol], PROMPTS_STDIO);
      await waitForHealth(proxy, 200);
      const first = await proxy.get("/prompts");
      assert.deepEqual(first.body, {
        prompts: [
          {
            name: "greet",
            title: "Greeting",
            description: "Greets someone by name",
            arguments: [
              { name: "name", description: "Who to greet", required: true },
              { name: "greeting", description: "The greeting word", required: false },
            ],
          },
          { name: "plain", description: "A prompt without arguments" },
        ],
      });
      const before = (await proxy.get("/openapi.json")).body as Json;
      assert.equal(before.paths["/prompts/late"], undefined);

      assert.equal((await proxy.post("/add-prompt", { name: "late" })).status, 200);
      const doc = await waitFor("the new prompt in the document", async () => {
        const got = (await proxy.get("/openapi.json")).body as Json;
        return got.paths["/prompts/late"] ? got : undefined;
      });
      assert.equal(doc.paths["/prompts/late"].post.operationId, "get_prompt_late");
      await SwaggerParser.validate(structuredClone(doc) as never);
      const paged = await proxy.get("/prompts");
      assert.equal((paged.body as Json).nextCursor, "2", "two prompts a page: a third makes a second page");
      const second = await proxy.get("/prompts?cursor=2");
      assert.deepEqual(second.body, { prompts: [{ name: "late", description: "Added at run time: late" }] });
      const slow = await proxy.post("/prompts/slow", { any: "thing" }, { "x-tool-timeout": "0.3" });
      assert.equal(slow.status, 504, "a shorter X-Tool-Timeout bounds it, as a tool call");
      assert.equal((slow.body as Json).detail.code, "upstream_timeout");
      assert.match((slow.body as Json).detail.message, /did not answer prompt "slow" within 0.3 s/);
      const late = await proxy.post("/prompts/late", {});
      assert.equal(late.status, 200);
      assert.equal((late.body as Json).messages[0].content.text, "added prompt late");
      await proxy.stop();
    });
  });
}
