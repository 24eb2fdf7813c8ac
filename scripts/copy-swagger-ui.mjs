// Part of `npm run build`: copies Swagger UI's browser files into dist/swagger-ui/, which /docs serves (src/http/docs.ts).
//
// Why not a run-time dependency: swagger-ui-dist (and so swagger-ui-express) depends on @scarf/scarf, whose install
// script reports every install to a third party. npm's `overrides` only apply to the project being installed, not to
// a user's `npm install mcpo-ts` or `npx mcpo-ts`, so the only way to keep it off users' machines is to depend on
// nothing that pulls it in. The files come from @fastify/swagger-ui (a devDependency, pinned: the Fastify project
// republishes swagger-ui-dist's files in its `static/` folder, without scarf), and ship inside our own package.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

const FILES = ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"];

const manifest = createRequire(import.meta.url).resolve("@fastify/swagger-ui/package.json");
const source = join(dirname(manifest), "static");
const target = fileURLToPath(new URL("../dist/swagger-ui/", import.meta.url));
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, file));

// The swagger-ui-dist version the republisher copied from (its own devDependency).
const version = JSON.parse(readFileSync(manifest, "utf8")).devDependencies?.["swagger-ui-dist"]?.replace(/^[^\d]*/, "");
writeFileSync(
  join(target, "NOTICE"),
  [
    `Swagger UI${version ? ` ${version}` : ""}: https://github.com/swagger-api/swagger-ui`,
    "Copyright SmartBear Software Inc. Licensed under the Apache License, Version 2.0:",
    "https://www.apache.org/licenses/LICENSE-2.0",
    "The files in this folder are Swagger UI's distribution files, unchanged, as republished in the static folder",
    "of the npm package @fastify/swagger-ui.",
    "",
  ].join("\n"),
);
process.stdout.write(`copied Swagger UI${version ? ` ${version}` : ""} to ${target}\n`);
