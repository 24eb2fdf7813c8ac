import assert from "node:assert/strict";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth, type Proxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** One request on its own connection, with headers fetch() will not send (Host). */
function send(
  proxy: Proxy,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${proxy.url}${path}`,
      {
        method,
        agent: false,
        headers: { ...(text === undefined ? {} : { "content-type": "application/json" }), ...headers },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (data += chunk));
        res.on("end", () => {
          let parsed: unknown = data;
          try {
            parsed = JSON.parse(data);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

/** A raw connection to the proxy that collects everything it receives. */
async function rawSocket(proxy: Proxy): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const { hostname, port } = new URL(proxy.url);
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
  socket.on("error", () => {});
  const closed = once(socket, "close");
  await once(socket, "connect");
  return { socket, received: () => received, closed };
}

const post = (path: string, body: unknown): string => {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
};

describe("HTTP hardening", () => {
  after(stopAll);

  describe("methods and preflight (item 29)", () => {
    it("answers 405 with Allow: POST for GET, PUT, DELETE and PATCH on a tool route", async () => {
      const proxy = await startProxy([], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const reply = await send(proxy, method, "/pid");
        assert.equal(reply.status, 405, method);
        assert.equal(reply.headers.allow, "POST", method);
        assert.equal(reply.body.detail.code, "method_not_allowed", method);
        assert.match(reply.body.detail.message, new RegExp(`${method} is not allowed on /pid`));
      }
      // Not a tool: still 404; and POST still calls the tool.
      assert.equal((await send(proxy, "GET", "/no-such-tool")).status, 404);
      assert.equal((await send(proxy, "POST", "/pid", {}, {})).status, 200);
      await proxy.stop();
    });

    it("advertises only POST and OPTIONS on a tool route, GET, HEAD and OPTIONS elsewhere", async () => {
      const proxy = await startProxy(["--cors-allow-origins", "https://chat.example"], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const preflight = { origin: "https://chat.example", "access-control-request-method": "POST" };
      const tool = await send(proxy, "OPTIONS", "/pid", {
        ...preflight,
        "access-control-request-headers": "content-type,authorization",
      });
      assert.equal(tool.status, 204);
      assert.equal(tool.headers["access-control-allow-methods"], "POST, OPTIONS");
      assert.equal(tool.headers["access-control-allow-origin"], "https://chat.example");
      assert.equal(tool.headers["access-control-allow-headers"], "content-type,authorization");
      assert.equal(tool.body, "");
      const spec = await send(proxy, "OPTIONS", "/openapi.json", preflight);
      assert.equal(spec.status, 204);
      assert.equal(spec.headers["access-control-allow-methods"], "GET, HEAD, OPTIONS");
      const other = await send(proxy, "OPTIONS", "/pid", { ...preflight, origin: "https://evil.example" });
      assert.equal(other.headers["access-control-allow-origin"], undefined);
      await proxy.stop();
    });
  });

  describe("cross-site calls (item 20)", () => {
    it("refuses a tool call whose Origin is not in --cors-allow-origins (403 origin_not_allowed), without running it", async () => {
      const proxy = await startProxy(["--cors-allow-origins", "https://chat.example"], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const refused = await send(proxy, "POST", "/add-tool", { origin: "https://evil.example" }, { name: "from-evil" });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.detail.code, "origin_not_allowed");
      // A simple (no-preflight) form post is refused the same way.
      const form = await send(proxy, "POST", "/add-tool", {
        origin: "https://evil.example",
        "content-type": "text/plain",
      });
      assert.equal(form.status, 403);
      const listed = async (): Promise<string[]> =>
        ((await proxy.get("/tools")).body as Json).tools.map((tool: Json) => tool.name as string);
      assert.ok(!(await listed()).includes("from-evil"), "the tool did not run");

      // An allowed origin, the proxy's own (its Swagger UI) and no Origin at all may call.
      const allowed = await send(proxy, "POST", "/pid", { origin: "https://chat.example" }, {});
      assert.equal(allowed.status, 200);
      assert.equal((await send(proxy, "POST", "/pid", { origin: proxy.url }, {})).status, 200);
      assert.equal((await send(proxy, "POST", "/pid", {}, {})).status, 200);
      await proxy.stop();
    });

    it("on loopback, serves only Host values naming loopback (421 host_not_allowed otherwise)", async () => {
      const proxy = await startProxy([], FIXTURE_STDIO);
      const { port } = new URL(proxy.url);
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "LOCALHOST"]) {
        assert.equal((await send(proxy, "GET", "/", { host })).status, 200, host);
      }
      for (const host of [`evil.example:${port}`, "evil.example", `localhost.evil.example:${port}`]) {
        const denied = await send(proxy, "GET", "/", { host });
        assert.equal(denied.status, 421, host);
        assert.equal(denied.body.detail.code, "host_not_allowed", host);
        assert.equal((await send(proxy, "POST", "/pid", { host }, {})).status, 421, host);
      }
      await proxy.stop();
    });

    it("--allowed-hosts names the hosts served; * serves any", async () => {
      const named = await startProxy(["--allowed-hosts", "mcpo.internal,other.internal"], FIXTURE_STDIO);
      assert.equal((await send(named, "GET", "/", { host: "mcpo.internal:8000" })).status, 200);
      assert.equal((await send(named, "GET", "/", { host: "localhost" })).status, 421);
      await named.stop();
      const any = await startProxy(["--allowed-hosts", "*"], FIXTURE_STDIO);
      assert.equal((await send(any, "GET", "/", { host: "evil.example" })).status, 200);
      await any.stop();
    });
  });

  describe("connections (item 18)", () => {
    it("at --max-connections, closes the connection idle longest to admit a new one", async () => {
      const proxy = await startProxy(["--max-connections", "3"], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const idle = [await rawSocket(proxy), await rawSocket(proxy), await rawSocket(proxy)];
      const reply = await send(proxy, "POST", "/pid", {}, {});
      assert.equal(reply.status, 200);
      // The oldest silent connection made room; the newer ones are still open.
      await idle[0]!.closed;
      assert.equal(idle[1]!.socket.destroyed, false);
      for (const { socket } of idle) socket.destroy();
      await proxy.stop();
    });

    it("refuses a new connection with 503 too_many_connections only when every connection is busy", async () => {
      const proxy = await startProxy(["--max-connections", "2"], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const busy = [await rawSocket(proxy), await rawSocket(proxy)];
      for (const { socket } of busy) socket.write(post("/sleep", { ms: 4000 }));
      await new Promise((resolve) => setTimeout(resolve, 500)); // both calls are in progress
      const refused = await send(proxy, "POST", "/pid", {}, {});
      assert.equal(refused.status, 503);
      assert.equal(refused.body.detail.code, "too_many_connections");
      assert.equal(refused.headers["retry-after"], "1");
      assert.equal(refused.headers.connection, "close");
      for (const { received } of busy) {
        await waitFor("the slow call to finish", () => received().startsWith("HTTP/1.1 200"));
      }
      // Once they are idle, new connections are admitted again.
      assert.equal((await send(proxy, "POST", "/pid", {}, {})).status, 200);
      for (const { socket } of busy) socket.destroy();
      await proxy.stop();
    });

    it("closes a connection that sends nothing within the headers timeout (10 s, not Node's 60 s)", async () => {
      const proxy = await startProxy([], FIXTURE_STDIO);
      const silent = await rawSocket(proxy);
      const started = Date.now();
      await silent.closed;
      assert.ok(Date.now() - started < 20_000, `closed after ${Date.now() - started} ms`);
      assert.match(silent.received(), /^HTTP\/1.1 408/);
      await proxy.stop();
    });
  });

  describe("shutdown (item 29)", () => {
    it("answers 503 shutting_down, with Retry-After, to a call still running when the grace period ends", async () => {
      const proxy = await startProxy([], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      const call = send(proxy, "POST", "/sleep", {}, { ms: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.process.child.kill("SIGTERM");
      const reply = await call;
      assert.equal(reply.status, 503);
      assert.equal(reply.body.detail.code, "shutting_down");
      assert.equal(reply.headers["retry-after"], "5");
      await proxy.stop();
    });

    it("answers 503 shutting_down to a request that arrives on a kept-alive connection during shutdown", async () => {
      const proxy = await startProxy([], FIXTURE_STDIO);
      await waitForHealth(proxy, 200);
      // A kept-alive connection, idle when the shutdown begins (it stays open: closing it could race a request).
      const { socket, received } = await rawSocket(proxy);
      socket.write(post("/pid", {}));
      await waitFor("the first answer", () => received().includes("HTTP/1.1 200"));
      // A call on another connection keeps the drain going.
      const call = send(proxy, "POST", "/sleep", {}, { ms: 1500 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.process.child.kill("SIGTERM");
      await proxy.waitForLog("shutting down", (line) => line.msg === "shutting down");
      socket.write(post("/pid", {}));
      await waitFor("both answers", () => received().includes("shutting_down"));
      const statuses = [...received().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
      assert.deepEqual(statuses, ["200", "503"]);
      assert.match(received(), /connection: close/i);
      // The call in flight finished, and its answer ended its connection (nothing more is sent on one about to close).
      const reply = await call;
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.connection, "close");
      socket.destroy();
      await proxy.stop();
    });
  });
});
