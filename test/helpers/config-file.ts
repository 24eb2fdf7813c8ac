import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

/**
 * A config file as a Kubernetes ConfigMap volume holds it: `config.json` is a symlink to `..data/config.json`, and
 * `..data` a symlink to a hidden folder per version. write() updates it as the kubelet does: a new folder, a
 * `..data_tmp` link to it renamed over `..data`, the old folder removed (config.json itself is never written).
 */
export function configMapVolume(initial: unknown): { path: string; write(config: unknown): void } {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-configmap-"));
  let current: string | undefined;
  const write = (config: unknown): void => {
    const version = `..${process.hrtime.bigint()}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, "config.json"), JSON.stringify(config, null, 2));
    symlinkSync(version, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    if (current) rmSync(join(dir, current), { recursive: true });
    current = version;
  };
  write(initial);
  symlinkSync(join("..data", "config.json"), join(dir, "config.json"));
  return { path: join(dir, "config.json"), write };
}
