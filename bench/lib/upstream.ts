import { freePort } from "../../test/helpers/ports.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { assertRunning, startChild, waitFor, type Child } from "./children.js";

/** Where an MCP server is: a command line (stdio) or a Streamable HTTP URL. */
export type Upstream =
  | { readonly transport: "stdio"; readonly command: string; readonly args: readonly string[] }
  | { readonly transport: "streamable-http"; readonly url: string };

export type TransportName = Upstream["transport"];

const require = createRequire(import.meta.url);
const EVERYTHING_ENTRY = join(
  dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist",
  "index.js",
);

export function everythingStdio(): Upstream {
  return { transport: "stdio", command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] };
}

/** server-everything over Streamable HTTP on a free loopback port, resolved once it answers HTTP. */
export async function startEverythingHttp(): Promise<{ upstream: Upstream; child: Child }> {
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
