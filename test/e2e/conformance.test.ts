import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createLimiter,
  EXPECTED_FAILURES,
  listClientScenarios,
  missingInstall,
  PARALLELISM,
  runScenario,
  suiteLabel,
  SUITES,
  type ScenarioResult,
} from "../conformance/run.js";

/**
 * The official MCP conformance suite's client scenarios, with mcpo-ts as the client (test/conformance/).
 * One test per (suite version, scenario). The tests run concurrently and PARALLELISM scenarios at a time:
 * each one mostly waits on its mock server and the proxy.
 */
const problem = missingInstall();
if (problem) {
  it("the conformance packages are installed", () => assert.fail(problem));
} else {
  const limited = createLimiter(PARALLELISM);
  describe("MCP conformance, client scenarios", { concurrency: true }, () => {
    for (const suite of SUITES) {
      describe(suiteLabel(suite), { concurrency: true }, () => {
        for (const scenario of listClientScenarios(suite)) {
          const expected = EXPECTED_FAILURES[scenario];
          it(scenario, expected ? { todo: expected } : {}, async () => {
            const result = await limited(() => runScenario(suite, scenario));
            assert.ok(result.passed, explain(result));
          });
        }
      });
    }
  });
}

function explain(result: ScenarioResult): string {
  return [
    `${result.scenario} failed (${suiteLabel(result.suite)}):`,
    ...result.problems.map((line) => `  ${line}`),
    "--- conformance output ---",
    result.output,
  ].join("\n");
}
