import { createServer, type Server } from "node:http";
import { sameState } from "./provider.js";

/** What the browser brought back to the loopback redirect URI. */
export type CallbackResult = { kind: "code"; params: URLSearchParams } | { kind: "error"; params: URLSearchParams };

export class CallbackError extends Error {
  override readonly name = "CallbackError";
}

/**
 * The loopback listener of `mcpo auth`: 127.0.0.1 only (never a name DNS could move, never all interfaces), one
 * path, `/callback`. The first request there whose `state` matches (compared in constant time) ends the wait;
 * one with a wrong or missing `state` fails it (a forged or stale redirect).
 */
export class CallbackServer {
  readonly #server: Server;
  #expectedState: () => string | undefined = () => undefined;
  #settle: ((result: CallbackResult | Error) => void) | undefined;
  #early: CallbackResult | Error | undefined;

  private constructor(server: Server) {
    this.#server = server;
    server.on("request", (request, response) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      if (request.method !== "GET" || url.pathname !== "/callback") {
        response.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
        return;
      }
      const expected = this.#expectedState();
      const params = url.searchParams;
      if (expected === undefined || !sameState(expected, params.get("state"))) {
        response
          .writeHead(400, { "content-type": "text/plain" })
          .end("This login link does not match the one mcpo auth started.\n");
        this.#deliver(
          new CallbackError(
            "the redirect's state does not match the one sent (a stale or forged redirect); nothing was stored",
          ),
        );
        return;
      }
      const failed = params.has("error") || !params.has("code");
      response
        .writeHead(failed ? 400 : 200, { "content-type": "text/plain", "cache-control": "no-store" })
        .end(failed ? "The login did not complete; see the terminal.\n" : "Logged in. You can close this tab.\n");
      this.#deliver({ kind: failed ? "error" : "code", params });
    });
  }

  /** Listens on 127.0.0.1:`port` (0 = any free port). */
  static async listen(port: number): Promise<CallbackServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new CallbackServer(server);
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  /** Where the state to expect comes from (the provider makes a new one per authorization request). */
  expectState(source: () => string | undefined): void {
    this.#expectedState = source;
  }

  /** The callback, or a CallbackError after `timeoutMs`. */
  wait(timeoutMs: number): Promise<CallbackResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle = undefined;
        reject(new CallbackError(`no login came back within ${Math.round(timeoutMs / 1000)} s (--timeout)`));
      }, timeoutMs);
      this.#settle = (result) => {
        clearTimeout(timer);
        this.#settle = undefined;
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      if (this.#early) this.#settle(this.#early);
    });
  }

  #deliver(result: CallbackResult | Error): void {
    if (this.#settle) this.#settle(result);
    else this.#early ??= result;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
