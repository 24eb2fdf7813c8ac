import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createProbes, type Readiness } from "../../../src/http/probes.js";

describe("createProbes", () => {
  let server: Server;
  let base = "";
  let readiness: Readiness = { ready: true };

  before(async () => {
    const probe = createProbes({ rootPath: "/gw", readiness: () => readiness });
    // What is not a probe goes on down the pipeline: here, an answer naming the method and URL.
    server = createServer((req, res) => {
      if (probe(req, res)) return;
      res.end(`next ${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it("answers GET /livez and /readyz, also below the root path and with a query", async () => {
    for (const path of ["/livez", "/gw/livez", "/livez?x=1"]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { status: "ok" });
    }
    readiness = { ready: false, reason: "starting", waitingFor: ["a", "b"] };
    const starting = await fetch(`${base}/gw/readyz`);
    assert.equal(starting.status, 503);
    assert.deepEqual(await starting.json(), { status: "not_ready", reason: "starting", waiting_for: ["a", "b"] });
    readiness = { ready: false, reason: "shutting_down" };
    assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: "not_ready", reason: "shutting_down" });
    readiness = { ready: true };
    assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: "ready" });
  });

  it("leaves every other method to the routes behind it (a tool named livez keeps its POST)", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const res = await fetch(`${base}/livez`, { method });
      assert.equal(await res.text(), `next ${method} /livez`);
    }
  });

  it("leaves paths that only look like probes alone", async () => {
    for (const path of ["/livez/", "/livezz", "/x/readyz", "/gwx/readyz"]) {
      assert.equal(await (await fetch(`${base}${path}`)).text(), `next GET ${path}`);
    }
  });
});
