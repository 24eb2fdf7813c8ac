/**
 * `npm test`'s pretest: installs the conformance packages (their own lock file, so that users who install
 * the proxy never download the Node 22 binary they bring) unless they are already installed from the
 * current lock file. Cheap when nothing changed: two stat calls.
 */
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const LOCK = join(HERE, "package-lock.json");
/** npm writes this copy of the lock file into node_modules at every install. */
const INSTALLED = join(HERE, "node_modules", ".package-lock.json");

function modifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const installed = modifiedAt(INSTALLED);
if (installed === undefined || installed < modifiedAt(LOCK)!) {
  process.stderr.write("installing the conformance packages: npm ci --prefix test/conformance\n");
  execFileSync("npm", ["ci", "--prefix", HERE, "--no-audit", "--no-fund"], {
    cwd: resolve(HERE, "../.."),
    stdio: "inherit",
    timeout: 300_000,
  });
}
