import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { IssuerMismatchError } from "@modelcontextprotocol/client";
import { isLegacySameOriginIssuer } from "../../../../src/upstream/oauth/legacy-issuer.js";

/** A server with or without protected resource metadata, on loopback. */
describe("the 2025-03-26 same-origin issuer tolerance", () => {
  let withMetadata = false;
  const server = createServer((request, response) => {
    if (withMetadata && request.url?.startsWith("/.well-known/oauth-protected-resource")) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [base] }));
      return;
    }
    response.writeHead(404).end();
  });
  let base = "";
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());
  const check = (expected: string, received: string, kind: "metadata" | "authorization_response" = "metadata") =>
    isLegacySameOriginIssuer(new IssuerMismatchError(kind, expected, received), `${base}/mcp`, fetch);

  it("accepts a same-origin issuer when the server has no resource metadata (the fallback)", async () => {
    withMetadata = false;
    assert.equal(await check(`${base}/`, `${base}/oauth`), true);
  });

  it("refuses it when the server has resource metadata, for another origin, or for the callback's iss", async () => {
    withMetadata = true;
    assert.equal(await check(`${base}/`, `${base}/oauth`), false);
    withMetadata = false;
    assert.equal(await check(`${base}/`, "https://evil.example.com/oauth"), false);
    assert.equal(await check("https://as.example.com/", `${base}/oauth`), false);
    assert.equal(await check(`${base}/`, `${base}/oauth`, "authorization_response"), false);
    assert.equal(await isLegacySameOriginIssuer(new Error("other"), `${base}/mcp`, fetch), false);
  });
});
