import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { DOCUMENTS, servedDocument } from "../../scripts/generate-openapi.js";

describe("checked-in OpenAPI documents (openapi/)", () => {
  for (const [file, target] of Object.entries(DOCUMENTS)) {
    it(`${file} is what the proxy serves now (regenerate with: npm run openapi)`, async () => {
      const saved = await readFile(new URL(`../../openapi/${file}`, import.meta.url), "utf8");
      const served = await servedDocument(target);
      assert.equal(served, saved, `openapi/${file} is stale: run npm run openapi and commit the result`);
      await SwaggerParser.validate(JSON.parse(saved) as never);
    });
  }
});
