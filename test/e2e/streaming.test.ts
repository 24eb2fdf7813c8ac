import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createParser } from "eventsource-parser";
import { STREAM_FIXTURE_STDIO } from "../fixtures/stream-server.js";
import { startV2Http, V2_STDIO } from "../fixtures/v2/index.js";
import { EVERYTHING_STDIO, startEverything } from "../helpers/everything.js";
import { freePort } from "../helpers/ports.js";
import { run, stopAll, type Running } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;
const SSE = { accept: "text/event-stream" };
const FAST = ["--retry-delay", "0.05", "--max-retry-delay", "0.2", "--connection-timeout", "5"];

interface Received {
  event: string;
  data: Json;
  /** Milliseconds since the request went out. */
  at: number;
}

interface Streamed {
  status: number;
  headers: Headers;
  /** When the response headers arrived, ms since the request went out. */
  headersAt: number;
  events: Received[];
  /** The body when the answer is not an event stream. */
  body?: unknown;
}

/** A tool call read as it arrives, each event through a real SSE parser and timed. */
async function streamCall(
  proxy: Proxy,
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; onEvent?: (event: Received) => void; signal?: AbortSignal } = {},
): Promise<Streamed> {
  const startedAt = Date.now();
  const response = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...SSE, ...options.headers },
    body: JSON.stringify(body),
    signal: options.signal ?? AbortSignal.timeout(30_000),
  });
  const headersAt = Date.now() - startedAt;
  const result: Streamed = { status: response.status, headers: response.headers, headersAt, events: [] };
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    result.body = await response.json();
    return result;
  }
  const parser = createParser({
    onEvent: (message) => {
      const received = { event: message.event ?? "message", data: JSON.parse(message.data) as Json, at: 0 };
      received.at = Date.now() - startedAt;
      result.events.push(received);
      options.onEvent?.(received);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  return result;
}

const names = (streamed: Streamed): string[] => streamed.events.map((event) => event.event);

/** The stream fixture over stateful Streamable HTTP (a GET stream per session, as real servers have). */
async function startStreamFixtureHttp(): Promise<{ url: string; process: Running }> {
  const child = run(STREAM_FIXTURE_STDIO[0]!, STREAM_FIXTURE_STDIO.slice(1), { STREAM_FIXTURE_HTTP_PORT: "0" });
  const port = await waitFor("the stream fixture to listen", () => {
    if (child.child.exitCode !== null) throw new Error(`stream fixture exited: ${child.stderr()}`);
    return /listening (\d+)/.exec(child.stdout())?.[1];
  });
  return { url: `http://127.0.0.1:${port}/mcp`, process: child };
}

describe("streaming tool calls (Accept: text/event-stream)", () => {
  after(stopAll);

  for (const transport of ["stdio", "streamable-http", "sse"] as const) {
    describe(`server-everything over ${transport}`, () => {
      let proxy: Proxy;
      before(async () => {
        if (transport === "stdio") {
          proxy = await startProxy([], EVERYTHING_STDIO);
        } else {
          const upstream = await startEverything(transport === "sse" ? "sse" : "streamableHttp");
          proxy = await startProxy(["--type", transport], [upstream.url]);
        }
        await waitForHealth(proxy, 200);
      });
      after(() => proxy?.stop());

      it("streams each progress step of trigger-long-running-operation as it happens, then the result", async () => {
        const args = { duration: 1.2, steps: 4 };
        const streamed = await streamCall(proxy, "/trigger-long-running-operation", args);
        assert.equal(streamed.status, 200);
        assert.equal(streamed.headers.get("content-type"), "text/event-stream; charset=utf-8");
        assert.equal(streamed.headers.get("cache-control"), "no-store");
        assert.equal(streamed.headers.get("x-accel-buffering"), "no");
        assert.deepEqual(names(streamed), ["progress", "progress", "progress", "progress", "result"]);
        const progress = streamed.events.slice(0, 4);
        assert.deepEqual(
          progress.map((event) => event.data),
          [1, 2, 3, 4].map((step) => ({ progress: step, total: 4 })),
        );
        // Live, not all at the end: the headers came at once, and the steps about 300 ms apart.
        assert.ok(streamed.headersAt < progress[0]!.at - 150, `headers at ${streamed.headersAt} ms`);
        assert.ok(progress[3]!.at - progress[0]!.at >= 600, `steps at ${progress.map((event) => event.at).join(", ")}`);
        assert.ok(streamed.events[4]!.at - progress[0]!.at >= 600);

        const plain = await proxy.post("/trigger-long-running-operation", { duration: 0.1, steps: 1 });
        assert.equal(plain.status, 200);
        const quick = await streamCall(proxy, "/trigger-long-running-operation", { duration: 0.1, steps: 1 });
        assert.deepEqual(quick.events.at(-1), { ...quick.events.at(-1), event: "result", data: plain.body });
      });

      it("answers the result event with exactly the plain call's body", async () => {
        for (const [tool, args] of [
          ["echo", { message: "streamed" }],
          ["get-structured-content", { location: "New York" }],
          ["get-tiny-image", {}],
        ] as const) {
          const plain = await proxy.post(`/${tool}`, args);
          assert.equal(plain.status, 200, tool);
          const streamed = await streamCall(proxy, `/${tool}`, args);
          assert.deepEqual(names(streamed), ["result"], tool);
          assert.deepEqual(streamed.events[0]!.data, plain.body, tool);
        }
      });

      if (transport === "stdio") {
        it("streams a task's statuses as task events, then its result; with respond-async, 202 JSON instead", async () => {
          const streamed = await streamCall(proxy, "/simulate-research-query", { topic: "tides" });
          assert.equal(streamed.status, 200);
          const tasks = streamed.events.filter((event) => event.event === "task");
          assert.ok(tasks.length >= 2, `task events: ${JSON.stringify(tasks)}`);
          assert.equal(tasks[0]!.data.status, "working");
          assert.ok(
            tasks.some((event) => /Analyzing content/.test(String(event.data.status_message))),
            "the stages show as they run",
          );
          const last = streamed.events.at(-1)!;
          assert.equal(last.event, "result");
          assert.match(String(last.data), /# Research Report: tides/);
          assert.ok(last.at - tasks[0]!.at >= 2000, "the statuses came while it ran, not at its end");

          const handedOut = await streamCall(
            proxy,
            "/simulate-research-query",
            { topic: "tides" },
            {
              headers: { prefer: "respond-async" },
            },
          );
          assert.equal(handedOut.status, 202);
          assert.match(String((handedOut.body as Json).location), /^\/tasks\//);
          assert.equal((await proxy.get(String((handedOut.body as Json).location))).status, 200);
        });
      }
    });
  }

  describe("the stream fixture over stdio", () => {
    let proxy: Proxy;
    before(async () => {
      proxy = await startProxy(FAST, STREAM_FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
    });
    after(() => proxy?.stop());

    it("passes progress messages on, and carries no log events on stdio (nothing ties them to a call)", async () => {
      const streamed = await streamCall(proxy, "/steps", { steps: 2, ms: 50, tag: "stdio" });
      assert.deepEqual(names(streamed), ["progress", "progress", "result"]);
      assert.deepEqual(streamed.events[1]!.data, { progress: 2, total: 2, message: "step 2 of 2" });
      assert.equal(streamed.events[2]!.data, "stdio done after 2 steps");
    });

    it("still streams progress when X-Tool-Timeout makes the timeout a hard bound", async () => {
      const streamed = await streamCall(
        proxy,
        "/steps",
        { steps: 3, ms: 50, tag: "bounded" },
        {
          headers: { "x-tool-timeout": "5" },
        },
      );
      assert.deepEqual(names(streamed), ["progress", "progress", "progress", "result"]);
      // ...and progress does not extend it: steps of 400 ms against 1 s.
      const cut = await streamCall(
        proxy,
        "/steps",
        { steps: 4, ms: 400, tag: "cut" },
        { headers: { "x-tool-timeout": "1" } },
      );
      assert.equal(cut.events.at(-1)!.event, "error");
      assert.equal(cut.events.at(-1)!.data.status, 504);
      assert.equal(cut.events.at(-1)!.data.detail.code, "upstream_timeout");
      const before = names(cut).slice(0, -1);
      assert.ok(before.length >= 1 && before.every((name) => name === "progress"), names(cut).join(", "));
    });

    it("ends with an error event, status 500 and the plain body, when the tool reports an error", async () => {
      const plain = await proxy.post("/fail", {});
      assert.equal(plain.status, 500);
      const streamed = await streamCall(proxy, "/fail", {});
      assert.equal(streamed.status, 200);
      assert.deepEqual(names(streamed), ["error"]);
      assert.equal(streamed.events[0]!.data.detail.code, "tool_error");
      assert.deepEqual(streamed.events[0]!.data, { status: 500, ...(plain.body as Json) });
    });

    it("ends with an error event 503 when the upstream dies mid-call", async () => {
      const streamed = await streamCall(proxy, "/die", {});
      assert.deepEqual(names(streamed), ["progress", "error"]);
      assert.equal(streamed.events[1]!.data.status, 503);
      assert.equal(streamed.events[1]!.data.detail.code, "upstream_unavailable");
      await waitForHealth(proxy, 200); // respawned for the next tests
    });

    it("answers invalid arguments with a plain 422, not a stream", async () => {
      const streamed = await streamCall(proxy, "/steps", { steps: "many" });
      assert.equal(streamed.status, 422);
      assert.match(streamed.headers.get("content-type") ?? "", /^application\/json/);
      assert.ok(Array.isArray((streamed.body as Json).detail));
      const unknown = await streamCall(proxy, "/no-such-tool", {});
      assert.equal(unknown.status, 404);
      assert.equal((unknown.body as Json).detail.code, "unknown_tool");
    });

    it("keeps JSON the default: */*, application/json, and event streams ranked lower", async () => {
      for (const accept of ["*/*", "application/json", "application/json, text/event-stream;q=0.1"]) {
        const answer = await streamCall(
          proxy,
          "/steps",
          { steps: 1, ms: 1, tag: "json" },
          {
            headers: { accept },
          },
        );
        assert.equal(answer.status, 200, accept);
        assert.match(answer.headers.get("content-type") ?? "", /^application\/json/, accept);
        assert.equal(answer.body, "json done after 1 steps", accept);
      }
      const ranked = await streamCall(
        proxy,
        "/steps",
        { steps: 1, ms: 1, tag: "sse" },
        {
          headers: { accept: "application/json;q=0.5, text/event-stream" },
        },
      );
      assert.deepEqual(names(ranked), ["progress", "result"]);
    });

    it("cancels the call upstream when the caller disconnects mid-stream", async () => {
      const caller = new AbortController();
      const call = streamCall(
        proxy,
        "/steps",
        { steps: 100, ms: 100, tag: "leaving" },
        {
          signal: caller.signal,
          onEvent: (event) => {
            if (event.event === "progress" && event.data.progress === 2) caller.abort();
          },
        },
      );
      await assert.rejects(call);
      await proxy.waitForLog(
        "the cancellation upstream",
        (line) => line.msg === "stream-fixture: steps leaving cancelled",
      );
      // The proxy carries on.
      assert.deepEqual(names(await streamCall(proxy, "/steps", { steps: 1, ms: 1 })), ["progress", "result"]);
    });
  });

  describe("the stream fixture over Streamable HTTP: log events", () => {
    let proxy: Proxy;
    let upstream: { url: string; process: Running };
    before(async () => {
      upstream = await startStreamFixtureHttp();
      proxy = await startProxy(["--type", "streamable-http", ...FAST, "--connection-timeout", "1"], [upstream.url]);
      await waitForHealth(proxy, 200);
    });
    after(() => proxy?.stop());

    it("streams the log messages the upstream sends about this call, in order with its progress", async () => {
      const streamed = await streamCall(proxy, "/steps", { steps: 2, ms: 50, tag: "mine" });
      assert.deepEqual(names(streamed), ["progress", "log", "progress", "log", "result"]);
      assert.deepEqual(streamed.events[1]!.data, { level: "info", logger: "stream-fixture", data: "mine step 1" });
      assert.deepEqual(streamed.events[3]!.data, { level: "info", logger: "stream-fixture", data: "mine step 2" });
    });

    it("never gives one caller another call's logs, or the session's", async () => {
      const [a, b, everyone] = await Promise.all([
        streamCall(proxy, "/steps", { steps: 4, ms: 60, tag: "A" }),
        streamCall(proxy, "/steps", { steps: 4, ms: 45, tag: "B" }),
        streamCall(proxy, "/broadcast", { tag: "session" }),
      ]);
      const logs = (streamed: Streamed): string[] =>
        streamed.events.filter((event) => event.event === "log").map((event) => String(event.data.data));
      assert.deepEqual(logs(a), ["A step 1", "A step 2", "A step 3", "A step 4"]);
      assert.deepEqual(logs(b), ["B step 1", "B step 2", "B step 3", "B step 4"]);
      assert.deepEqual(names(everyone), ["result"], "a log about no request reaches no caller");
      assert.equal(everyone.events[0]!.data, "session broadcast");
    });

    it("cancels the call upstream when the caller disconnects mid-stream", async () => {
      const caller = new AbortController();
      const call = streamCall(
        proxy,
        "/steps",
        { steps: 100, ms: 100, tag: "gone" },
        {
          signal: caller.signal,
          onEvent: (event) => {
            if (event.event === "progress") caller.abort();
          },
        },
      );
      await assert.rejects(call);
      await waitFor("the cancellation upstream", () =>
        upstream.process.stderr().includes("stream-fixture: steps gone cancelled"),
      );
    });

    it("ends with an error event 503 when the upstream goes away mid-call", async () => {
      let killed = false;
      const streamed = await streamCall(
        proxy,
        "/steps",
        { steps: 100, ms: 100, tag: "killed" },
        {
          onEvent: (event) => {
            if (event.event === "progress" && !killed) {
              killed = true;
              upstream.process.child.kill("SIGKILL");
            }
          },
        },
      );
      assert.equal(streamed.status, 200);
      assert.equal(streamed.events.at(-1)!.event, "error");
      assert.equal(streamed.events.at(-1)!.data.status, 503, JSON.stringify(streamed.events.at(-1)));
      assert.equal(streamed.events.at(-1)!.data.detail.code, "upstream_unavailable");
      // Down before the next call is sent: a plain 503, no stream.
      const refused = await streamCall(proxy, "/steps", { steps: 1, ms: 1 });
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal((refused.body as Json).detail.code, "upstream_unavailable");
    });
  });

  for (const transport of ["stdio", "streamable-http"] as const) {
    it(`streams progress from a 2026-07-28 server over ${transport}`, async () => {
      const target =
        transport === "stdio" ? [...V2_STDIO["modern-only"]] : [(await startV2Http({ era: "modern-only" })).url];
      const proxy = await startProxy(transport === "stdio" ? [] : ["--type", "streamable-http"], target);
      await waitForHealth(proxy, 200);
      const streamed = await streamCall(proxy, "/progress", { steps: 3, intervalMs: 50 });
      assert.deepEqual(names(streamed), ["progress", "progress", "progress", "result"]);
      assert.deepEqual(streamed.events[2]!.data, { progress: 3, total: 3, message: "step 3 of 3" });
      assert.equal(streamed.events[3]!.data, "progressed 3 steps");
      await proxy.stop();
    });
  }

  it("answers a plain 503 when the upstream is down before the call is sent", async () => {
    const proxy = await startProxy(
      ["--type", "streamable-http", ...FAST],
      [`http://127.0.0.1:${await freePort()}/mcp`],
    );
    const streamed = await streamCall(proxy, "/anything", {});
    assert.equal(streamed.status, 503);
    assert.match(streamed.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal((streamed.body as Json).detail.code, "upstream_unavailable");
    await proxy.stop();
  });

  it("ends a stream still running at the end of the shutdown grace period with an error event 503", async () => {
    const proxy = await startProxy([], STREAM_FIXTURE_STDIO);
    await waitForHealth(proxy, 200);
    const streamed = await streamCall(
      proxy,
      "/steps",
      { steps: 1000, ms: 100, tag: "shutdown" },
      {
        onEvent: (event) => {
          if (event.event === "progress" && event.data.progress === 1) proxy.process.child.kill("SIGTERM");
        },
      },
    );
    assert.equal(streamed.events.at(-1)!.event, "error");
    assert.equal(streamed.events.at(-1)!.data.status, 503);
    assert.equal(streamed.events.at(-1)!.data.detail.code, "shutting_down");
    await proxy.stop();
  });
});
