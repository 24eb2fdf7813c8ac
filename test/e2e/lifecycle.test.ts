import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { EVERYTHING_STDIO, startEverything } from "../helpers/everything.js";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { freePort } from "../helpers/ports.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth } from "../helpers/proxy.js";
import { isAlive, waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const FAST_RETRY = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "2"];

describe("connection lifecycle", () => {
  after(stopAll);

  it("starts before its upstream, answers 503, and connects once the upstream is up", async () => {
    const port = await freePort();
    const proxy = await startProxy(["--type", "streamable-http", ...FAST_RETRY], [`http://127.0.0.1:${port}/mcp`]);
    const early = await proxy.post("/echo", { message: "too soon" });
    assert.equal(early.status, 503);
    assert.ok(Number(early.headers.get("retry-after")) >= 1);
    assert.equal((early.body as Json).detail.code, "upstream_unavailable");
    const unhealthy = await waitForHealth(proxy, 503);
    assert.equal((unhealthy.body as Json).status, "unhealthy");
    assert.ok(["connecting", "down"].includes((unhealthy.body as Json).details.state));

    const upstream = await startEverything("streamableHttp", port);
    await waitForHealth(proxy, 200);
    const { status, body } = await proxy.post("/echo", { message: "now" });
    assert.equal(status, 200);
    assert.equal(body, "Echo: now");

    // The upstream goes away: calls answer 503 and health says so, no hang.
    await upstream.stop();
    const gone = await proxy.post("/echo", { message: "gone" });
    assert.equal(gone.status, 503);
    assert.ok(gone.headers.get("retry-after"));
    const down = await waitForHealth(proxy, 503);
    assert.ok((down.body as Json).details.error_count >= 1);
    assert.ok((down.body as Json).details.last_error);

    // ...and comes back: the proxy recovers by itself.
    await startEverything("streamableHttp", port);
    await waitForHealth(proxy, 200);
    assert.equal((await proxy.post("/echo", { message: "back" })).body, "Echo: back");
    assert.equal(await proxy.stop(), 0);
  });

  it("reports a server that fails at start as down after --retry-attempts, and keeps running", async () => {
    process.env.FIXTURE_EXIT_AT_START = "3";
    // A long connection timeout: under load, tsx alone can take seconds to start the fixture, and the point
    // here is the server exiting, not the timeout.
    const proxy = await startProxy(
      ["--retry-attempts", "2", "--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "30"],
      FIXTURE_STDIO,
    );
    delete process.env.FIXTURE_EXIT_AT_START;
    const health = await waitFor("state down", async () => {
      const answer = await proxy.get("/health");
      return (answer.body as Json).details.state === "down" ? answer : undefined;
    });
    assert.equal(health.status, 503);
    assert.match((health.body as Json).details.last_error, /exited with code 3|closed/);
    await proxy.waitForLog("attempt 1/2", (l) => l.attempt === "1/2" && String(l.msg).startsWith("connecting to"));
    await proxy.waitForLog("attempt 2/2 failing", (l) => l.attempt === "2/2" && String(l.msg).includes("failed"));
    await proxy.waitForLog("the down report", (l) => String(l.msg).includes("is down; still retrying"));
    assert.equal((await proxy.post("/anything", {})).status, 503);
    assert.equal(proxy.process.child.exitCode, null, "the proxy did not exit");
    assert.equal(await proxy.stop(), 0);
  });

  it("answers 504 from trigger-long-running-operation past --tool-timeout", async () => {
    const proxy = await startProxy(["--tool-timeout", "0.5"], EVERYTHING_STDIO);
    await waitForHealth(proxy, 200);
    const started = Date.now();
    const { status, body } = await proxy.post("/trigger-long-running-operation", { duration: 5, steps: 5 });
    assert.equal(status, 504);
    assert.ok(Date.now() - started < 4000);
    assert.equal((body as Json).detail.code, "upstream_timeout");
    assert.equal((await proxy.post("/echo", { message: "after" })).body, "Echo: after");
    await proxy.stop();
  });

  it("on SIGTERM, lets an in-flight call finish, exits 0 and leaves no server process behind, even under a shell wrapper", async () => {
    const [node, ...args] = FIXTURE_STDIO;
    // "; true" keeps sh from exec'ing node, so the server is a grandchild of the proxy.
    const proxy = await startProxy([], ["sh", "-c", `${[node, ...args].join(" ")}; true`]);
    await waitForHealth(proxy, 200);
    const serverPid = Number((await proxy.post("/pid", {})).body);
    assert.ok(isAlive(serverPid));
    const inFlight = proxy.post("/sleep", { ms: 400 });
    await waitFor("the call to reach the server", () =>
      proxy.logs().some((line) => line.msg === "fixture: sleep 400 started"),
    );
    const exit = proxy.stop("SIGTERM");
    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "slept 400");
    assert.equal(await exit, 0);
    await waitFor("the server process to be gone", () => !isAlive(serverPid), 5000);
  });
});
