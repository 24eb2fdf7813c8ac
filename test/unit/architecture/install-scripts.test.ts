/**
 * Installing mcpo-ts runs no third-party telemetry (issue 14): no package in either lock file may be
 * `@scarf/scarf` (Swagger UI's distribution depends on it; its install script reports each install to a third
 * party), and every package that runs a script at install is one reviewed below. A new dependency that brings an
 * install script fails here until someone reads the script and adds it, with the reason.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import semver from "semver";

/** Packages allowed to run an install script, with what the script does. */
const REVIEWED_INSTALL_SCRIPTS: Record<string, string> = {
  // postinstall: node install.js — checks that the platform binary package (@esbuild/<os>-<arch>, an optional
  // dependency) is in place and fetches it from the registry if not. No network call otherwise. Dev only (tsx).
  esbuild: "dev",
};

/** Packages no lock file may hold, whatever depends on them. */
const BANNED = ["@scarf/scarf"];

interface LockEntry {
  hasInstallScript?: boolean;
  dev?: boolean;
  engines?: { node?: string };
}

const LOCKS = ["package-lock.json", "test/conformance/package-lock.json", "test/deploy/package-lock.json"];

function packagesOf(lock: string): [string, LockEntry][] {
  const parsed = JSON.parse(readFileSync(new URL(`../../../${lock}`, import.meta.url), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  // "node_modules/a/node_modules/@b/c" → "@b/c"
  return Object.entries(parsed.packages)
    .filter(([path]) => path !== "")
    .map(([path, entry]) => [path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length), entry]);
}

describe("no install-time telemetry", () => {
  for (const lock of LOCKS) {
    it(`${lock} holds no @scarf/scarf`, () => {
      const found = packagesOf(lock).filter(([name]) => BANNED.includes(name));
      assert.deepEqual(found, []);
    });

    it(`${lock}: every package with an install script is reviewed, and none is a run-time dependency`, () => {
      const scripted = packagesOf(lock).filter(([, entry]) => entry.hasInstallScript);
      for (const [name, entry] of scripted) {
        assert.ok(name in REVIEWED_INSTALL_SCRIPTS, `${name} runs a script at install: review it, then list it here`);
        if (lock === "package-lock.json") assert.equal(entry.dev, true, `${name} would run on users' installs`);
      }
    });
  }

  // OpenTelemetry's 3.x line needs Node 22.15 and once slipped in here unnoticed (npm only warns): every package a
  // user's install brings must run on the oldest Node our own `engines` admits.
  it("every run-time dependency runs on the oldest Node that package.json's engines admits", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      engines: { node: string };
    };
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    const tooNew = packagesOf("package-lock.json")
      .filter(([, entry]) => !entry.dev && entry.engines?.node && !semver.satisfies(oldest, entry.engines.node))
      .map(([name, entry]) => `${name} needs Node ${entry.engines!.node}`);
    assert.deepEqual(tooNew, []);
  });

  it("the published package depends on no Swagger UI distribution (its files are copied in at build)", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    for (const name of ["swagger-ui-dist", "swagger-ui-express", "swagger-ui", ...BANNED]) {
      assert.ok(!(name in manifest.dependencies), name);
    }
    assert.match(manifest.scripts.build!, /copy-swagger-ui/);
  });
});
