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

  it("measures floor, thin bridge and mcpo-ts over stdio in both protocol eras without errors and writes the JSON", () => {
    const out = join(dir, "quick.json");
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN, "--quick", "--out", out], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `bench exited ${run.status}: ${run.stderr}`);

    const report = JSON.parse(readFileSync(out, "utf8")) as {
      mode: string;
      overhead: {
        era: string;
        contender: string;
        transport: string;
        requests: number;
        errors: number;
        failed?: string;
      }[];
      target: { era: string; holds?: boolean }[];
    };
    assert.equal(report.mode, "quick");
    assert.deepEqual(
      report.overhead.map((row) => `${row.era} ${row.contender}`),
      ["legacy floor", "legacy thin", "legacy mcpo", "modern floor", "modern thin", "modern mcpo"],
    );
    for (const row of report.overhead) {
      const name = `${row.contender} (${row.era})`;
      assert.equal(row.transport, "stdio");
      assert.equal(row.failed, undefined, `${name} failed: ${row.failed}`);
      assert.equal(row.errors, 0, `${name} had errors`);
      assert.ok(row.requests > 0, `${name} made no calls`);
    }
    // Judged on every quick run (the verdict itself is not asserted: the figures are noise here).
    assert.deepEqual(
      report.target.map((verdict) => [verdict.era, typeof verdict.holds]),
      [
        ["legacy", "boolean"],
        ["modern", "boolean"],
      ],
    );
    assert.match(run.stdout, /\| legacy +\| stdio +\| +16 \| mcpo/, "the table is printed");
    assert.match(run.stdout, /\| modern +\| stdio +\| +16 \| mcpo/, "the modern era is in the table");
    assert.match(run.stdout, /^ {2}modern: (holds|MISSED)/m, "the target is judged per era");
  });
});
