/**
 * The container image's recipe (Dockerfile, docs/OPERATIONS.md, Container image). No container engine runs here, so the
 * Dockerfile is checked by a linter (dockerfile-utils, a pinned devDependency) and by the rules below that the
 * docs promise; its HEALTHCHECK command and its default arguments are run against the real CLI.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { configFile } from "../helpers/config-file.js";
import { FIXTURE_STDIO } from "../fixtures/index.js";
import { run, stopAll } from "../helpers/processes.js";
import { CLI } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCKERFILE = `${ROOT}Dockerfile`;
const LINTER = `${ROOT}node_modules/dockerfile-utils/bin/dockerfile-utils`;

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions by build stage (comments dropped, continuation lines joined). */
function stages(): Instruction[][] {
  const text = readFileSync(DOCKERFILE, "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  const result: Instruction[][] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.replace(/\s+/g, " ").trim() };
    if (instruction.keyword === "FROM") result.push([]);
    result.at(-1)!.push(instruction);
  }
  return result;
}

const final = (): Instruction[] => stages().at(-1)!;
const argsOf = (stage: Instruction[], keyword: string): string[] =>
  stage.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

describe("Dockerfile", () => {
  after(stopAll);

  it("lints clean: no error and no warning from dockerfile-utils", async () => {
    const { stdout } = await exec(process.execPath, [LINTER, "lint", "--json", DOCKERFILE]);
    assert.deepEqual(JSON.parse(stdout), []);
  });

  it("builds in one stage and runs from a slim Node 20 image with production dependencies only, no install scripts", () => {
    const all = stages();
    assert.equal(all.length, 2);
    assert.match(all[0]![0]!.args, /^node:20-\S+ AS build$/);
    assert.match(final()[0]!.args, /^node:20-(bookworm-)?slim$/);
    const installs = argsOf(final(), "RUN").filter((args) => args.includes("npm ci"));
    assert.equal(installs.length, 1);
    assert.match(installs[0]!, /npm ci --omit=dev --ignore-scripts/);
    // The run stage takes the compiled code from the build stage, not the sources.
    assert.ok(argsOf(final(), "COPY").includes("--from=build /app/dist ./dist"));
    assert.ok(!argsOf(final(), "COPY").some((args) => /\bsrc\b/.test(args)));
  });

  it("runs as the user node, under tini as PID 1, on 0.0.0.0:8000 with /config/config.json", () => {
    const users = argsOf(final(), "USER");
    assert.deepEqual(users, ["node"]);
    const userAt = final().findIndex((instruction) => instruction.keyword === "USER");
    const entryAt = final().findIndex((instruction) => instruction.keyword === "ENTRYPOINT");
    assert.ok(userAt < entryAt);
    assert.ok(argsOf(final(), "RUN").some((args) => /apt-get install .*\btini\b/.test(args)));
    const entrypoint = JSON.parse(argsOf(final(), "ENTRYPOINT")[0]!) as string[];
    assert.deepEqual(entrypoint, ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]);
    const cmd = JSON.parse(argsOf(final(), "CMD")[0]!) as string[];
    assert.deepEqual(cmd, ["--host", "0.0.0.0", "--port", "8000", "--config", "/config/config.json"]);
    assert.deepEqual(argsOf(final(), "EXPOSE"), ["8000"]);
  });

  it("bakes in no secret: no ENV or ARG that names a key, token, secret or password", () => {
    for (const stage of stages()) {
      for (const args of [...argsOf(stage, "ENV"), ...argsOf(stage, "ARG")]) {
        assert.doesNotMatch(args, /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i, args);
      }
    }
    assert.doesNotMatch(readFileSync(DOCKERFILE, "utf8"), /MCPO_API_KEY|--api-key/);
  });

  it("sends the build only the files it copies (.dockerignore)", () => {
    const allowed = readFileSync(`${ROOT}.dockerignore`, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("!"))
      .map((line) => line.slice(1).replace(/\/$/, ""));
    assert.ok(readFileSync(`${ROOT}.dockerignore`, "utf8").split("\n").includes("**"), "everything else left out");
    const copied = stages()
      .flatMap((stage) => argsOf(stage, "COPY"))
      .filter((args) => !args.startsWith("--from"))
      .flatMap((args) => args.split(" ").slice(0, -1));
    for (const source of copied) assert.ok(allowed.includes(source.replace(/\/$/, "")), source);
  });

  it("its HEALTHCHECK command passes against the CLI started with the image's arguments, and fails once it stops", async () => {
    const healthcheck = argsOf(final(), "HEALTHCHECK")[0]!;
    assert.match(healthcheck, /--interval=\S+ --timeout=\S+/);
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf("CMD ") + 4)) as string[];
    assert.equal(command[0], "node");
    assert.match(command[2]!, /http:\/\/127\.0\.0\.1:8000\/livez/);

    // The image's arguments, with a free port and a config file of our own in place of the mounted one.
    const cmd = JSON.parse(argsOf(final(), "CMD")[0]!) as string[];
    const [node, ...args] = FIXTURE_STDIO;
    const config = configFile({ mcpServers: { fixture: { command: node, args } } });
    const argv = cmd.map((arg) => (arg === "8000" ? "0" : arg === "/config/config.json" ? config.path : arg));
    const proxy = run(process.execPath, [CLI, ...argv]);
    const url = await waitFor("the proxy to listen", () => {
      const line = proxy
        .stderr()
        .split("\n")
        .find((entry) => entry.includes('"msg":"listening"'));
      return line ? String((JSON.parse(line) as { url: string }).url) : undefined;
    });
    assert.match(url, /^http:\/\/0\.0\.0\.0:\d+$/);
    const port = new URL(url).port;
    const check = (): Promise<number> =>
      exec(command[0] === "node" ? process.execPath : command[0]!, [
        command[1]!,
        command[2]!.replace(":8000/", `:${port}/`),
      ]).then(
        () => 0,
        (error: { code?: number }) => error.code ?? 1,
      );
    assert.equal(await check(), 0);
    // Swagger UI's files come with the build (no run-time package brings them): the page and each file it loads.
    const page = await (await fetch(`http://127.0.0.1:${port}/docs/`)).text();
    const assets = [...page.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((match) => match[1]!);
    assert.deepEqual(assets.sort(), [
      "swagger-ui-bundle.js",
      "swagger-ui-init.js",
      "swagger-ui-standalone-preset.js",
      "swagger-ui.css",
    ]);
    for (const asset of assets) {
      const answer = await fetch(`http://127.0.0.1:${port}/docs/${asset}`);
      assert.equal(answer.status, 200, asset);
      assert.match(answer.headers.get("content-type") ?? "", asset.endsWith(".css") ? /text\/css/ : /javascript/);
      assert.ok((await answer.text()).length > 100, asset);
    }
    assert.equal(await proxy.stop(), 0);
    assert.equal(await check(), 1);
  });
});
