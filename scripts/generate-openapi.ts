/**
 * Regenerates the OpenAPI documents checked in under openapi/, so that a
 * change to the tool → OpenAPI mapping shows in review. `npm run openapi`.
 * Runs the real proxy in process against real servers and saves what it serves.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startProxy } from "../src/app/proxy.js";
import { buildConfig } from "../src/cli/build-config.js";
import { createProgram, type CliOptions } from "../src/cli/program.js";
import { silentLogger } from "../src/log/logger.js";

/** Each document: its file under openapi/ and the upstream command line it describes. */
export const DOCUMENTS: Record<string, string[]> = {
  "server-everything.json": [
    process.execPath,
    fileURLToPath(import.meta.resolve("@modelcontextprotocol/server-everything/dist/index.js")),
    "stdio",
  ],
};

/** The document the proxy serves for `target`, as saved in openapi/. */
export async function servedDocument(target: string[]): Promise<string> {
  const program = createProgram().parse(["--host", "127.0.0.1", "--port", "0", "--", ...target], { from: "user" });
  const { config } = buildConfig(program.opts<CliOptions>(), program.args, process.env);
  const proxy = await startProxy(config, silentLogger());
  try {
    for (let tries = 0; tries < 300; tries++) {
      if ((await fetch(`${proxy.url}/health`)).status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const document = (await (await fetch(`${proxy.url}/openapi.json`)).json()) as unknown;
    return `${JSON.stringify(document, null, 2)}\n`;
  } finally {
    await proxy.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, target] of Object.entries(DOCUMENTS)) {
    const path = fileURLToPath(new URL(`../openapi/${file}`, import.meta.url));
    await writeFile(path, await servedDocument(target));
    process.stdout.write(`wrote ${path}\n`);
  }
}
