import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startFixtureHttp } from "../fixtures/index.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "2"];

describe("faults of remote servers", () => {
  after(stopAll);

  for (const status of ["404", "400"]) {
    it(`replaces a session the upstream forgot (HTTP ${status}) and retries the call once, transparently`, async () => {
      const upstream = await startFixtureHttp({ mode: "stateful", env: { FIXTURE_FORGET_STATUS: status } });
      const proxy = await startProxy(["--type", "streamable-http", ...FAST], [upstream.url]);
      await waitForHealth(proxy, 200);
      assert.equal((await proxy.post("/forget-sessions", {})).status, 200);
      await waitFor("the upstream to forget", () => upstream.process.stderr().includes("fixture: sessions forgotten"));
      const answer = await proxy.post("/echo-args", { after: "forgetting" });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { after: "forgetting" });
      await proxy.waitForLog("the forgotten session", (line) =>
        String(line.msg).startsWith("the upstream forgot the session"),
      );
      assert.equal(((await proxy.get("/health")).body as Json).details.reconnect_count, 1);
      await proxy.stop();
      await upstream.stop();
    });
  }

  it("carries on after the upstream restarts on the same port", async () => {
    const first = await startFixtureHttp({ mode: "stateful" });
    const proxy = await startProxy(["--type", "streamable-http", ...FAST], [first.url]);
    await waitForHealth(proxy, 200);
    const before = (await proxy.post("/pid", {})).body;
    await first.stop();
    await startFixtureHttp({ mode: "stateful", port: first.port });
    const answer = await proxy.post("/pid", {});
    assert.equal(answer.status, 200, "the first call after the restart succeeds: its session was replaced");
    assert.notEqual(answer.body, before);
    await proxy.stop();
  });

  it("re-opens a dropped legacy SSE stream with a new initialize", async () => {
    const upstream = await startFixtureHttp({ mode: "sse" });
    const proxy = await startProxy(["--type", "sse", ...FAST], [upstream.url]);
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/drop-stream", {})).status, 200);
    await waitFor("a reconnect", async () => ((await proxy.get("/health")).body as Json).details.reconnect_count === 1);
    await proxy.waitForLog("the SSE failure", (line) => String(line.reason).startsWith("the SSE stream failed"));
    const answer = await waitFor("a call on the new stream", async () => {
      const attempt = await proxy.post("/echo-args", { on: "new stream" });
      return attempt.status === 200 ? attempt : undefined;
    });
    assert.deepEqual(answer.body, { on: "new stream" });
    await proxy.stop();
  });

  it("treats an upstream that answers nothing within --sse-read-timeout as lost: 503, then recovery", async () => {
    const upstream = await startFixtureHttp({ mode: "stateful" });
    const proxy = await startProxy(["--type", "streamable-http", "--sse-read-timeout", "0.3", ...FAST], [upstream.url]);
    await waitForHealth(proxy, 200);
    const started = Date.now();
    const stuck = await proxy.post("/busy", { ms: 2500 });
    assert.equal(stuck.status, 503);
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms, before the upstream woke up`);
    assert.match((stuck.body as Json).detail.message, /closed during tool "busy"|unavailable/);
    await proxy.waitForLog("the silence", (line) => String(line.reason).startsWith("nothing heard from the upstream"));
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/echo-args", { alive: true })).status, 200);
    await proxy.stop();
  });
});
