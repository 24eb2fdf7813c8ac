import { freePort } from "../../test/helpers/ports.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { assertRunning, startChild, waitFor, type Child } from "./children.js";
import { transpileToBuild } from "./transpile.js";

/** Where an MCP server is: a command line (stdio) or a Streamable HTTP URL. */
export type Upstream =
  | { readonly transport: "stdio"; readonly command: string; readonly args: readonly string[] }
  | { readonly transport: "streamable-http"; readonly url: string };

export type TransportName = Upstream["transport"];

/**
 * The protocol era the upstream speaks: `legacy` is server-everything (the 2025 revisions, `initialize`),
 * `modern` the v2 SDK fixture that speaks only 2026-07-28 (`server/discover`, no session).
 */
export const ERAS = ["legacy", "modern"] as const;
export type Era = (typeof ERAS)[number];

/** The upstream of each era, as the tables name it. */
export const ERA_SERVER: Readonly<Record<Era, string>> = {
  legacy: "server-everything",
  modern: "echo-modern (v2 SDK, 2026-07-28 only)",
};

/** A running HTTP upstream: its URL and the process serving it. */
export interface RemoteUpstream {
  upstream: Upstream;
  child: Child;
}

const require = createRequire(import.meta.url);
const EVERYTHING_ENTRY = join(
  dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist",
  "index.js",
);
let modernEntry: string | undefined;

/** Compiled once per run, like the thin proxy: plain JavaScript, no tsx loader in the upstream's figures. */
function modernFixture(): string {
  modernEntry ??= transpileToBuild(new URL("../fixtures/echo-modern-server.ts", import.meta.url));
  return modernEntry;
}

export function stdioUpstream(era: Era): Upstream {
  const args = era === "legacy" ? [EVERYTHING_ENTRY, "stdio"] : [modernFixture(), "stdio"];
  return { transport: "stdio", command: process.execPath, args };
}

/** The era's server over Streamable HTTP on loopback, resolved once it answers HTTP. */
export function startHttpUpstream(era: Era): Promise<RemoteUpstream> {
  return era === "legacy" ? startEverythingHttp() : startModernHttp();
}

/** server-everything over stdio (the payload and growth figures use the legacy era only). */
export function everythingStdio(): Upstream {
  return stdioUpstream("legacy");
}

/** server-everything over Streamable HTTP on a free loopback port, resolved once it answers HTTP. */
export async function startEverythingHttp(): Promise<RemoteUpstream> {
  const port = await freePort();
  // It logs every request to stdout: discarded, or the pipe would cost CPU on every call.
  const child = startChild(process.execPath, [EVERYTHING_ENTRY, "streamableHttp"], {
    env: { PORT: String(port) },
    stdout: "ignore",
  });
  try {
    await waitFor(`server-everything on port ${port}`, async () => {
      assertRunning(child, "server-everything");
      // Any HTTP answer means it listens (GET / without a session is a 404).
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return true;
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { upstream: { transport: "streamable-http", url: `http://127.0.0.1:${port}/mcp` }, child };
}

/** The modern fixture picks its own port and prints it: no window in which another process could take it. */
async function startModernHttp(): Promise<RemoteUpstream> {
  const child = startChild(process.execPath, [modernFixture(), "streamable-http"]);
  try {
    const port = await waitFor("the modern echo server to listen", () => {
      const found = /listening (\d+)/.exec(child.stdout())?.[1];
      if (found === undefined) assertRunning(child, "the modern echo server");
      return found;
    });
    return { upstream: { transport: "streamable-http", url: `http://127.0.0.1:${port}/mcp` }, child };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
