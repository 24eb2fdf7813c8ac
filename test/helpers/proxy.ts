import { fileURLToPath } from "node:url";
import { run, type Running } from "./processes.js";
import { waitFor } from "./wait.js";

/** The built CLI (npm test builds before running). */
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface Proxy {
  readonly url: string;
  readonly process: Running;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Waits for a log line (logs are written asynchronously: one may trail the answer it explains). */
  waitForLog(what: string, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/**
 * Runs the real CLI on 127.0.0.1 with a free port and resolves once it
 * listens (its "listening" log line). Options go before `--`, the target after.
 */
export async function startProxy(options: string[], target: string[]): Promise<Proxy> {
  const child = run(process.execPath, [CLI, "--host", "127.0.0.1", "--port", "0", ...options, "--", ...target]);
  const logs = (): Record<string, unknown>[] =>
    child
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const url = await waitFor("the proxy to listen", () => {
    if (child.child.exitCode !== null) throw new Error(`proxy exited ${child.child.exitCode}: ${child.stderr()}`);
    const line = logs().find((entry) => entry.msg === "listening");
    return line ? String(line.url) : undefined;
  });
  const request = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Answer> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    url,
    process: child,
    logs,
    waitForLog: (what, match) => waitFor(`the log to show ${what}`, () => logs().find(match)),
    post: (path, body = {}, headers = {}) => request("POST", path, body, headers),
    get: (path, headers = {}) => request("GET", path, undefined, headers),
    stop: (signal) => child.stop(signal),
  };
}

/** Waits until GET /health answers `status` (200 once connected, 503 while not). */
export async function waitForHealth(proxy: Proxy, status: 200 | 503 = 200, timeoutMs = 20_000): Promise<Answer> {
  return waitFor(
    `/health to answer ${status}`,
    async () => {
      const answer = await proxy.get("/health");
      return answer.status === status ? answer : undefined;
    },
    timeoutMs,
  );
}

/** Starts the proxy, waits until it is healthy, and reads its OpenAPI document (suites that check the spec). */
export async function startProxyWithDocument(
  options: string[],
  target: string[],
): Promise<{ proxy: Proxy; doc: Record<string, any> }> {
  const proxy = await startProxy(options, target);
  await waitForHealth(proxy, 200);
  return { proxy, doc: (await proxy.get("/openapi.json")).body as Record<string, any> };
}
