import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deflateSync, gzipSync } from "node:zlib";
import {
  BACKREF_PATTERN,
  BIG_INTEGER,
  HOSTILE_STDIO,
  REDOS_INPUT,
  startHostileHttp,
} from "../fixtures/hostile-schemas/index.js";
import { stopAll, type Running } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;

/** A raw POST: the body and headers exactly as given (the helper would add a JSON content type). */
async function rawPost(
  proxy: Proxy,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; body: Json }> {
  const response = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    // not JSON
  }
  return { status: response.status, text, body: parsed };
}

describe("request bodies, validation and results that attack the proxy (hostile-schemas fixture over stdio)", () => {
  let proxy: Proxy;

  before(async () => {
    proxy = await startProxy([], HOSTILE_STDIO);
    await waitForHealth(proxy);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  const upstreamCalls = async (tool: string): Promise<number> =>
    ((await proxy.post("/calls", {})).body as Record<string, number>)[tool] ?? 0;

  it("refuses a body nested 100,000 levels deep with 400 before validation, and stays up", async () => {
    const before = await upstreamCalls("open");
    const deep = `{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const { status, body } = await proxy.post("/open", deep);
    assert.equal(status, 400);
    assert.equal(body && (body as Json).detail.code, "bad_request");
    assert.match((body as Json).detail.message, /nested deeper than 100 levels/);
    // 100 levels is allowed
    const ok = await proxy.post("/open", `{"a":${"[".repeat(99)}${"]".repeat(99)}}`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(await upstreamCalls("open"), before + 1, "the deep body never reached the upstream");
    assert.equal((await proxy.get("/health")).status, 200);
  });

  it("checks an exponential pattern in bounded time (422 at once, not seconds of a frozen event loop)", async () => {
    const started = Date.now();
    const { status, body } = await proxy.post("/redos", { s: REDOS_INPUT });
    const elapsed = Date.now() - started;
    assert.equal(status, 422);
    assert.deepEqual((body as Json).detail, [
      { loc: ["body", "s"], msg: 'Input must match pattern "^(a+)+$"', type: "pattern" },
    ]);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
    assert.equal((await proxy.post("/redos", { s: "aaaa" })).status, 200, "a matching string passes");
  });

  it("checks propertyNames and patternProperties patterns in bounded time too", async () => {
    const started = Date.now();
    const names = await proxy.post("/redos_keys", { [REDOS_INPUT]: 1 });
    assert.equal(names.status, 422);
    assert.ok(
      ((names.body as Json).detail as Json[]).some((p) => p.type === "propertyNames"),
      JSON.stringify(names.body),
    );
    const values = await proxy.post("/redos_keys", { aaaa: "x" });
    assert.equal(values.status, 422);
    assert.deepEqual((values.body as Json).detail, [
      { loc: ["body", "aaaa"], msg: "Input should be of type integer", type: "integer_type" },
    ]);
    assert.ok(Date.now() - started < 3000);
  });

  it("leaves a pattern no linear engine can run to the upstream, with a warning, and never hangs", async () => {
    const { status } = await proxy.post("/backref", { s: REDOS_INPUT });
    assert.equal(status, 200, "not checked here: passed on");
    await proxy.waitForLog("the unchecked pattern", (line) =>
      String(line.msg).includes(JSON.stringify(BACKREF_PATTERN)),
    );
  });

  it("caps the problems of a 3 MB body of wrong types at 100, plus one entry counting the rest", async () => {
    const ids = `[${Array.from({ length: 500_000 }, () => '"x"').join(",")}]`;
    const { status, body, text } = await proxy.post("/numbers", `{"ids":${ids}}`);
    assert.equal(status, 422);
    const detail = (body as Json).detail as Json[];
    assert.equal(detail.length, 101);
    assert.deepEqual(detail[0], {
      loc: ["body", "ids", 0],
      msg: "Input should be of type integer",
      type: "integer_type",
    });
    assert.deepEqual(detail[100], {
      loc: ["body"],
      msg: "499900 more problems not listed (at most 100 are)",
      type: "too_many_errors",
    });
    assert.ok(text.length < 20_000, `answer of ${text.length} bytes`);
  });

  it("refuses a number too large to be finite with 422 naming the field", async () => {
    const before = await upstreamCalls("numbers");
    const { status, body } = await proxy.post("/numbers", '{"x": 1e400}');
    assert.equal(status, 422);
    assert.deepEqual((body as Json).detail, [
      { loc: ["body", "x"], msg: "Input should be a finite number", type: "finite_number" },
    ]);
    assert.equal(await upstreamCalls("numbers"), before);
  });

  it("returns integers beyond 2^53 in JSON text and in structured content exactly", async () => {
    const text = await rawPost(proxy, "/big_text", "{}", { "content-type": "application/json" });
    assert.equal(text.status, 200);
    assert.equal(text.text, `{"id":${BIG_INTEGER},"list":[1,${BIG_INTEGER}]}`);
    const structured = await rawPost(proxy, "/big_structured", "{}", { "content-type": "application/json" });
    assert.equal(structured.status, 200);
    assert.equal(structured.text, `{"id":${BIG_INTEGER}}`);
  });

  it("passes integers beyond 2^53 in a request body to the upstream exactly, validated as integers", async () => {
    const open = await rawPost(proxy, "/open", `{"a": ${BIG_INTEGER}, "b": [-${BIG_INTEGER}, 1.5]}`, {
      "content-type": "application/json",
    });
    assert.equal(open.status, 200);
    assert.equal(open.text, `{"a":${BIG_INTEGER},"b":[-${BIG_INTEGER},1.5]}`);
    const typed = await rawPost(proxy, "/numbers", `{"ids": [${BIG_INTEGER}], "x": null}`, {
      "content-type": "application/json",
    });
    assert.equal(typed.status, 200, typed.text);
    assert.equal(typed.text, `{"ids":[${BIG_INTEGER}]}`, "the null optional left out, the integer exact");
  });

  it("accepts application/json, */*+json and no content type; refuses text/plain and forms with 415", async () => {
    const body = '{"k":"v"}';
    for (const type of ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"]) {
      const { status } = await rawPost(proxy, "/open", body, { "content-type": type });
      assert.equal(status, 200, type);
    }
    const none = await rawPost(proxy, "/open", new TextEncoder().encode(body) as unknown as Buffer, {});
    assert.equal(none.status, 200, "no content type");
    const before = await upstreamCalls("open");
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const { status, body: answer } = await rawPost(proxy, "/open", body, { "content-type": type });
      assert.equal(status, 415, type);
      assert.equal(answer.detail.code, "unsupported_media_type");
    }
    assert.equal(await upstreamCalls("open"), before, "no refused call reached the upstream");
  });

  it("decodes latin1 and utf-16le bodies by their charset, skips a BOM, refuses unknown charsets with 415", async () => {
    const latin1 = await rawPost(proxy, "/open", Buffer.from('{"s":"café"}', "latin1"), {
      "content-type": "application/json; charset=ISO-8859-1",
    });
    assert.equal(latin1.status, 200);
    assert.deepEqual(latin1.body, { s: "café" });
    const utf16 = await rawPost(proxy, "/open", Buffer.from('{"s":"café"}', "utf16le"), {
      "content-type": "application/json; charset=utf-16le",
    });
    assert.deepEqual(utf16.body, { s: "café" });
    const bom = await rawPost(proxy, "/open", Buffer.from('\uFEFF{"s":"café"}', "utf8"), {
      "content-type": "application/json",
    });
    assert.equal(bom.status, 200);
    assert.deepEqual(bom.body, { s: "café" });
    const unknown = await rawPost(proxy, "/open", "{}", { "content-type": "application/json; charset=koi8-r" });
    assert.equal(unknown.status, 415);
    assert.equal(unknown.body.detail.code, "unsupported_media_type");
  });

  it("inflates gzip and deflate bodies, refuses a zip bomb with 413 and unknown encodings with 415", async () => {
    const json = { s: "x".repeat(1000) };
    for (const [encoding, data] of [
      ["gzip", gzipSync(JSON.stringify(json))],
      ["deflate", deflateSync(JSON.stringify(json))],
    ] as const) {
      const { status, body } = await rawPost(proxy, "/open", data, {
        "content-type": "application/json",
        "content-encoding": encoding,
      });
      assert.equal(status, 200, encoding);
      assert.deepEqual(body, json);
    }
    // 64 MiB of spaces is 64 KB gzipped: refused at the 4 MiB limit on the inflated size.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, " "));
    const refused = await rawPost(proxy, "/open", bomb, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    assert.equal(refused.status, 413);
    assert.equal(refused.body.detail.code, "payload_too_large");
    const brotli = await rawPost(proxy, "/open", "{}", {
      "content-type": "application/json",
      "content-encoding": "br",
    });
    assert.equal(brotli.status, 415);
  });

  it("serves and documents a tool whose schema nests 1,000 levels: /openapi.json answers, the part below 64 levels as {} with a warning", async () => {
    const { status, body } = await proxy.get("/openapi.json");
    assert.equal(status, 200);
    assert.ok((body as Json).paths["/deep"], "the deep tool is documented");
    assert.ok((body as Json).paths["/open"], "and so are the others");
    await proxy.waitForLog("the depth warning", (line) => /nested deeper than/.test(String(line.msg)));
  });
});

describe("integers beyond 2^53 over Streamable HTTP", () => {
  let proxy: Proxy;
  let upstream: { url: string; process: Running };

  before(async () => {
    upstream = await startHostileHttp();
    proxy = await startProxy(["--server-type", "streamable-http"], [upstream.url]);
    await waitForHealth(proxy);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("passes them to the upstream exactly and returns them exactly", async () => {
    const open = await rawPost(proxy, "/open", `{"a": ${BIG_INTEGER}}`, { "content-type": "application/json" });
    assert.equal(open.status, 200, open.text);
    assert.equal(open.text, `{"a":${BIG_INTEGER}}`);
  });
});
