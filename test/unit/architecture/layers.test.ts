import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

/**
 * The README's claims about the layout ("Development"), checked on the source: imports between the folders of
 * src/ only go down this list, and only src/upstream/ uses the SDK's client at run time (other layers may import
 * its types). auth (verifying callers' JWTs) sits below upstream, so it cannot reach an upstream connection, and
 * above config, whose typed settings it takes.
 */
const LAYERS = [
  "cli",
  "app",
  "http",
  "mcp-face",
  "openapi",
  "catalog",
  "upstream",
  "auth",
  "config",
  "telemetry",
  "log",
  "errors",
  "json",
];

/** The SDK's server packages: the MCP face's, and nobody else's. */
const SERVER_PACKAGES = [
  "@modelcontextprotocol/server",
  "@modelcontextprotocol/node",
  "@modelcontextprotocol/server-legacy/sse",
];

const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every `import ... from "x"` and `export ... from "x"` of a file, with whether it imports types only. */
function importsOf(text: string): { from: string; typeOnly: boolean }[] {
  const found: { from: string; typeOnly: boolean }[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)";/gms)) {
    found.push({ from: match[2]!, typeOnly: match[1] !== undefined });
  }
  return found;
}

const files = sourceFiles(SRC).map((path) => {
  const rel = relative(SRC, path);
  return { rel, layer: rel.split("/")[0]!, imports: importsOf(readFileSync(path, "utf8")) };
});

describe("the layout the README describes", () => {
  it("has a place in the list for every folder of src/", () => {
    const folders = new Set(files.map((file) => file.layer));
    assert.deepEqual(
      [...folders].filter((folder) => !LAYERS.includes(folder)),
      [],
    );
  });

  it("imports only go down the list of layers", () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const { from } of file.imports) {
        if (!from.startsWith(".")) continue;
        const target = relative(SRC, join(SRC, file.rel, "..", from)).split("/")[0]!;
        if (target === file.layer) continue;
        if (LAYERS.indexOf(target) < LAYERS.indexOf(file.layer)) upward.push(`${file.rel} imports ${from}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it("only src/upstream/ uses the SDK client at run time", () => {
    const outside = files
      .filter((file) => file.layer !== "upstream")
      .flatMap((file) =>
        file.imports
          .filter(
            ({ from, typeOnly }) =>
              from.startsWith("@modelcontextprotocol/") &&
              !typeOnly &&
              !(file.layer === "mcp-face" && SERVER_PACKAGES.includes(from)),
          )
          .map(({ from }) => `${file.rel} imports ${from}`),
      );
    assert.deepEqual(outside, []);
  });

  it("only src/mcp-face/ uses the SDK's server packages", () => {
    const outside = files
      .filter((file) => file.layer !== "mcp-face")
      .flatMap((file) =>
        file.imports
          .filter(({ from }) => SERVER_PACKAGES.includes(from))
          .map(({ from }) => `${file.rel} imports ${from}`),
      );
    assert.deepEqual(outside, []);
  });
});
