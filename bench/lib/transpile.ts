import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Inside the repository so the output still resolves packages from node_modules; gitignored. */
const BUILD_DIR = fileURLToPath(new URL("../results/.build/", import.meta.url));

/**
 * Compiles one self-contained TypeScript file (package imports only) to
 * bench/results/.build/<name>.mjs and returns its path. Our helper processes
 * (thin proxy, fixture server) run as plain JavaScript like mcpo-ts's dist/:
 * under the tsx loader each would start about 0.45 s slower and 35 MB larger
 * (measured on the bench machine), charged to them and not to mcpo-ts.
 */
export function transpileToBuild(sourceUrl: URL): string {
  const source = fileURLToPath(sourceUrl);
  const { outputText } = ts.transpileModule(readFileSync(source, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: source,
  });
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, basename(source).replace(/\.ts$/, ".mjs"));
  writeFileSync(out, outputText);
  return out;
}
