import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { configFile } from "../helpers/config-file.js";
import { CLI } from "../helpers/proxy.js";

function mcpoWith(config: unknown, env: NodeJS.ProcessEnv = {}) {
  const { path } = configFile(config);
  const result = spawnSync(process.execPath, [CLI, "--port", "0", "--config", path], {
    encoding: "utf8",
    timeout: 10_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stderr: result.stderr };
}

describe("a bad config file", () => {
  it("is refused at start-up with every problem listed by path and exit code 2", () => {
    const { code, stderr } = mcpoWith({
      mcpServers: {
        github: { type: "sse" },
        weird: { type: "carrier-pigeon", url: "http://x" },
        lists: { command: "node", disabledTools: "echo" },
        "bad name!": { command: "node" },
        empty: {},
        secret: { url: "http://127.0.0.1:1/sse", headers: { Authorization: "Bearer ${MCPO_TEST_UNSET_TOKEN}" } },
        health: { command: "node" },
      },
    });
    assert.equal(code, 2);
    for (const expected of [
      'mcpServers.github.url: required for type "sse"',
      'mcpServers.weird.type: unknown transport type "carrier-pigeon": use stdio, sse or streamable-http',
      "mcpServers.lists.disabledTools: must be a list of tool names",
      "mcpServers.bad name!: a server name must be 1-64 letters, digits",
      'mcpServers.empty: needs "command" (a stdio server) or "url"',
      "mcpServers.secret.headers.Authorization: ${MCPO_TEST_UNSET_TOKEN} is not set",
      'mcpServers.health: "health" is reserved',
    ]) {
      assert.ok(stderr.includes(expected), `expected ${JSON.stringify(expected)} in:\n${stderr}`);
    }
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  });

  it("that is not JSON, or not an object of servers, is refused with exit code 2", () => {
    const notJson = mcpoWith("{ nope");
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /not valid JSON/);
    const noServers = mcpoWith({ servers: {} });
    assert.equal(noServers.code, 2);
    assert.match(noServers.stderr, /mcpServers: must be an object of servers/);
  });

  it("does not clash with a command after -- or with --hot-reload alone", () => {
    const both = spawnSync(process.execPath, [CLI, "--config", "x.json", "--", "node"], { encoding: "utf8" });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /drop the command after --/);
    const reload = spawnSync(process.execPath, [CLI, "--hot-reload", "--", "node"], { encoding: "utf8" });
    assert.equal(reload.status, 2);
    assert.match(reload.stderr, /--hot-reload needs --config/);
  });
});
