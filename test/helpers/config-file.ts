import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A config file in a fresh folder; write() replaces it the way editors do (write aside, rename over). */
export function configFile(initial: unknown): { path: string; write(config: unknown): void } {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-config-"));
  const path = join(dir, "config.json");
  const write = (config: unknown): void => {
    const aside = join(dir, `.config.json.${process.hrtime.bigint()}`);
    writeFileSync(aside, typeof config === "string" ? config : JSON.stringify(config, null, 2));
    renameSync(aside, path);
  };
  write(initial);
  return { path, write };
}
