import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  expectedFailures,
  listServerScenarios,
  missingInstall,
  runLabel,
  runServerSuite,
  SERVER_RUNS,
  startProxyTarget,
  type ServerRunResult,
  type ServerScenarioResult,
  type Target,
} from "../conformance/server-run.js";

/**
 * The official MCP conformance suite's server scenarios, judging the proxy's MCP endpoint (/mcp) in front of the
 * fixture test/fixtures/conformance-server/ over Streamable HTTP (test/conformance/server-run.ts says why). One proxy for all; each
 * suite run is one CLI invocation (about 10 s), started in before(); one test per (run, scenario) reads its verdict.
 */
const problem = missingInstall();
if (problem) {
  it("the conformance packages are installed", () => assert.fail(problem));
} else {
  const expected = expectedFailures();
  let target: Target | undefined;
  const runs = new Map<string, Promise<ServerRunResult>>();

  describe("MCP conformance, server scenarios through the proxy", () => {
    before(async () => {
      target = await startProxyTarget();
      // The runs one after another: each keeps one core busy with the proxy and the fixture.
      let previous: Promise<unknown> = Promise.resolve();
      for (const run of SERVER_RUNS) {
        const url = target.url;
        const next = previous.then(() => runServerSuite(run, url));
        runs.set(runLabel(run), next);
        previous = next.catch(() => undefined);
      }
    });
    after(async () => {
      await Promise.allSettled(runs.values());
      await target?.stop();
    });

    for (const run of SERVER_RUNS) {
      describe(`conformance ${runLabel(run)}`, () => {
        for (const scenario of listServerScenarios(run)) {
          const why = expected[runLabel(run)]?.[scenario];
          it(scenario, why ? { todo: why } : {}, async () => {
            const result = await runs.get(runLabel(run))!;
            const one = result.results.find((each) => each.scenario === scenario)!;
            assert.ok(one.passed, explain(one, result));
          });
        }
      });
    }
  });
}

function explain(one: ServerScenarioResult, run: ServerRunResult): string {
  return [
    `${one.scenario} failed (conformance ${runLabel(one.run)}, through the proxy):`,
    ...one.problems.map((line) => `  ${line}`),
    "--- conformance output (the whole run) ---",
    run.output.slice(-4000),
  ].join("\n");
}
