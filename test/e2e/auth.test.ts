import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EVERYTHING_STDIO } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";

type Json = Record<string, any>;
const KEY = "s3cret-key";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("--api-key", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(["--api-key", KEY], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("answers 401 without a key, with WWW-Authenticate", async () => {
    const { status, headers, body } = await proxy.post("/echo", { message: "x" });
    assert.equal(status, 401);
    assert.equal(headers.get("www-authenticate"), "Bearer");
    assert.equal((body as Json).detail.code, "unauthorized");
  });

  it("answers 403 with a wrong key, even one of the same length", async () => {
    for (const key of ["wrong", "s3cret-kez"]) {
      const { status, body } = await proxy.post("/echo", { message: "x" }, bearer(key));
      assert.equal(status, 403);
      assert.equal((body as Json).detail.code, "forbidden");
    }
  });

  it("calls the tool with the right key", async () => {
    const { status, body } = await proxy.post("/echo", { message: "x" }, bearer(KEY));
    assert.equal(status, 200);
    assert.equal(body, "Echo: x");
  });

  it("leaves the spec and docs open, and documents bearer auth in them", async () => {
    const { status, body } = await proxy.get("/openapi.json");
    assert.equal(status, 200);
    const doc = body as Json;
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
      type: "http",
      scheme: "bearer",
      description: "The proxy's API key (--api-key)",
    });
    assert.deepEqual(doc.paths["/echo"].post.security, [{ bearerAuth: [] }]);
    assert.equal((await proxy.get("/docs/")).status, 200);
  });

  it("never writes the key to the log", () => {
    assert.ok(!proxy.process.stderr().includes(KEY));
  });
});

describe("--strict-auth", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(["--api-key", KEY, "--strict-auth"], EVERYTHING_STDIO);
  });
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  it("protects the spec, the docs and health too", async () => {
    for (const path of ["/openapi.json", "/docs/", "/health"]) {
      assert.equal((await proxy.get(path)).status, 401, path);
      assert.notEqual((await proxy.get(path, bearer(KEY))).status, 401, path);
    }
  });
});
