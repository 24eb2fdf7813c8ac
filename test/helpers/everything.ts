import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "./ports.js";
import { run, type Running } from "./processes.js";
import { waitFor } from "./wait.js";

const require = createRequire(import.meta.url);
/** server-everything's entry point, resolved from node_modules. */
export const EVERYTHING_ENTRY = join(
  dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist",
  "index.js",
);

/** server-everything's serverInfo: what the proxy reports as its OpenAPI title and /health server name. */
export const EVERYTHING_INFO = { name: "mcp-servers/everything", title: "Everything Reference Server" } as const;

/** The stdio command line of server-everything, for after `--`. */
export const EVERYTHING_STDIO = [process.execPath, EVERYTHING_ENTRY, "stdio"];

export interface RemoteServer {
  readonly url: string;
  readonly port: number;
  readonly process: Running;
  stop(): Promise<void>;
}

/** Starts server-everything over SSE or Streamable HTTP on a loopback port, resolved once it accepts requests. */
export async function startEverything(mode: "sse" | "streamableHttp", port?: number): Promise<RemoteServer> {
  const chosen = port ?? (await freePort());
  const child = run(process.execPath, [EVERYTHING_ENTRY, mode], { PORT: String(chosen) });
  const url = mode === "sse" ? `http://127.0.0.1:${chosen}/sse` : `http://127.0.0.1:${chosen}/mcp`;
  await waitFor(`server-everything ${mode} on port ${chosen}`, async () => {
    if (child.child.exitCode !== null) throw new Error(`server-everything exited: ${child.stderr()}`);
    // Any HTTP answer means it is listening (GET /mcp without a session answers 4xx).
    const response = await fetch(`http://127.0.0.1:${chosen}/`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return true;
  });
  return {
    url,
    port: chosen,
    process: child,
    stop: async () => {
      await child.stop();
    },
  };
}
