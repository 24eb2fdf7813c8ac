import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { get } from "node:https";
import { startFixtureHttp, FIXTURE_STDIO } from "../fixtures/index.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth } from "../helpers/proxy.js";
import { selfSignedCertificate } from "../helpers/tls.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

describe("HTTP and upstream options", () => {
  after(stopAll);

  it("sends --header to a Streamable HTTP upstream and never logs it", async () => {
    const upstream = await startFixtureHttp();
    const secret = "Bearer upstream-secret-123";
    const proxy = await startProxy(
      ["--type", "streamable-http", "--header", JSON.stringify({ Authorization: secret, "X-Team": "blue" })],
      [upstream.url],
    );
    await waitForHealth(proxy, 200);
    const { status, body } = await proxy.post("/headers", {});
    assert.equal(status, 200);
    assert.equal((body as Json).authorization, secret);
    assert.equal((body as Json)["x-team"], "blue");
    assert.ok(!proxy.process.stderr().includes("upstream-secret-123"), "the header value stays out of the log");
    await proxy.stop();
    await upstream.stop();
  });

  it("honours --root-path, --name, --description, --version and --cors-allow-origins", async () => {
    const proxy = await startProxy(
      [
        "--root-path",
        "/tools/",
        "--name",
        "My Tools",
        "--description",
        "Tools for the team",
        "--version",
        "9.9.9",
        "--cors-allow-origins",
        "https://chat.example",
      ],
      FIXTURE_STDIO,
    );
    await waitForHealth(proxy, 200);
    const doc = (await proxy.get("/openapi.json")).body as Json;
    assert.deepEqual(doc.info, { title: "My Tools", description: "Tools for the team", version: "9.9.9" });
    assert.deepEqual(doc.servers, [{ url: "/tools" }]);
    // Behind a proxy that strips the prefix, docs must still fetch the prefixed spec URL...
    assert.match((await proxy.get("/docs/swagger-ui-init.js")).text, /"url": "\/tools\/openapi.json"/);
    assert.equal((await proxy.get("/docs")).headers.get("location"), "/tools/docs/");
    // ...and behind one that keeps it, prefixed paths work too.
    assert.equal((await proxy.post("/tools/pid", {})).status, 200);
    assert.equal((await proxy.get("/tools/openapi.json")).status, 200);

    const allowed = await proxy.get("/openapi.json", { origin: "https://chat.example" });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://chat.example");
    const other = await proxy.get("/openapi.json", { origin: "https://evil.example" });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    // Tool calls are served outside express: the same CORS answer there.
    const call = await proxy.post("/pid", {}, { origin: "https://chat.example" });
    assert.equal(call.headers.get("access-control-allow-origin"), "https://chat.example");
    assert.match(call.headers.get("vary") ?? "", /Origin/);
    const refused = await proxy.post("/pid", {}, { origin: "https://evil.example" });
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
    await proxy.stop();
  });

  it("allows any origin by default", async () => {
    const proxy = await startProxy([], FIXTURE_STDIO);
    const answer = await proxy.get("/openapi.json", { origin: "https://anywhere.example" });
    assert.equal(answer.headers.get("access-control-allow-origin"), "*");
    const call = await proxy.post("/pid", {}, { origin: "https://anywhere.example" });
    assert.equal(call.headers.get("access-control-allow-origin"), "*");
    await proxy.stop();
  });

  it("serves HTTPS with --ssl-certfile and --ssl-keyfile", async () => {
    const { cert, key } = selfSignedCertificate();
    const proxy = await startProxy(["--ssl-certfile", cert, "--ssl-keyfile", key], FIXTURE_STDIO);
    assert.match(proxy.url, /^https:\/\//);
    const health = await waitFor("HTTPS health", async () => {
      const answer = await httpsGet(`${proxy.url}/health`);
      return answer.status === 200 ? (JSON.parse(answer.text) as Json) : undefined;
    });
    assert.equal(health.status, "healthy");
    await proxy.stop();
  });
});

/** GET over HTTPS trusting the throwaway self-signed certificate. */
function httpsGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    get(url, { rejectUnauthorized: false }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    }).on("error", reject);
  });
}
