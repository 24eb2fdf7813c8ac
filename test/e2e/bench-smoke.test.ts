import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";

const MAIN = fileURLToPath(new URL("../../bench/main.ts", import.meta.url));

/** The harness works end to end; the figures themselves are not asserted (the machine is shared and noisy). */
describe("npm run bench -- --quick", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("measures floor, thin proxy and mcpo-ts over stdio without errors and writes the JSON", () => {
    const out = join(dir, "quick.json");
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN, "--quick", "--out", out], {
      encoding: "utf8",
      timeout: 90_000,
    });
    assert.equal(run.status, 0, `bench exited ${run.status}: ${run.stderr}`);

    const report = JSON.parse(readFileSync(out, "utf8")) as {
      mode: string;
      overhead: { contender: string; transport: string; requests: number; errors: number; failed?: string }[];
    };
    assert.equal(report.mode, "quick");
    assert.deepEqual(report.overhead.map((row) => row.contender).sort(), ["floor", "mcpo", "thin"]);
    for (const row of report.overhead) {
      assert.equal(row.transport, "stdio");
      assert.equal(row.failed, undefined, `${row.contender} failed: ${row.failed}`);
      assert.equal(row.errors, 0, `${row.contender} had errors`);
      assert.ok(row.requests > 0, `${row.contender} made no calls`);
    }
    assert.match(run.stdout, /\| stdio +\| +16 \| mcpo/, "the table is printed");
  });
});
