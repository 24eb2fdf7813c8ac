import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { errorText, resultBody } from "../../../src/http/result-body.js";
import { stringifyJson } from "../../../src/json/exact-integers.js";

type Content = CallToolResult["content"];
const body = (content: Content, hasOutputSchema = false): unknown => resultBody({ content }, hasOutputSchema);
const text = (t: string): Content[number] => ({ type: "text", text: t });

describe("resultBody", () => {
  it("returns a single text item as a string", () => {
    assert.equal(body([text("hello world")]), "hello world");
  });

  it("parses text that is JSON", () => {
    assert.deepEqual(body([text('{"a":1}')]), { a: 1 });
    assert.equal(body([text("3")]), 3);
    assert.equal(body([text('"s"')]), "s");
    assert.deepEqual(body([text(" [1, true, null]")]), [1, true, null]);
  });

  it("keeps text that only looks like JSON", () => {
    assert.equal(body([text("{not json")]), "{not json");
    assert.equal(body([text("-")]), "-");
    assert.equal(body([text("")]), "");
  });

  it("turns images and audio into data URLs", () => {
    assert.equal(body([{ type: "image", data: "iVBO", mimeType: "image/png" }]), "data:image/png;base64,iVBO");
    assert.equal(body([{ type: "audio", data: "UklG", mimeType: "audio/wav" }]), "data:audio/wav;base64,UklG");
  });

  it("returns several items as an array and no items as an empty array", () => {
    assert.deepEqual(body([text("a"), text('{"b":2}')]), ["a", { b: 2 }]);
    assert.deepEqual(body([]), []);
  });

  it("returns an embedded resource's text, or its blob as a data URL", () => {
    assert.equal(body([{ type: "resource", resource: { uri: "file:///a.txt", text: "contents" } }]), "contents");
    assert.equal(
      body([{ type: "resource", resource: { uri: "file:///a.pdf", blob: "JVBE", mimeType: "application/pdf" } }]),
      "data:application/pdf;base64,JVBE",
    );
    assert.equal(
      body([{ type: "resource", resource: { uri: "file:///a.bin", blob: "AAAA" } }]),
      "data:application/octet-stream;base64,AAAA",
    );
  });

  it("returns a resource link as the link object", () => {
    const link = { type: "resource_link", uri: "file:///x", name: "x", mimeType: "text/plain" } as const;
    assert.deepEqual(body([link]), link);
  });

  it("returns structuredContent only when the tool declares an outputSchema", () => {
    const result: CallToolResult = { content: [text('{"shown":"text"}')], structuredContent: { shown: "structured" } };
    assert.deepEqual(resultBody(result, true), { shown: "structured" });
    assert.deepEqual(resultBody(result, false), { shown: "text" });
    assert.equal(resultBody({ content: [text("plain")] }, true), "plain");
  });
});

describe("errorText", () => {
  it("joins the text items", () => {
    const result: CallToolResult = {
      isError: true,
      content: [text("first"), { type: "image", data: "x", mimeType: "image/png" }, text("second")],
    };
    assert.equal(errorText(result), "first\nsecond");
  });

  it("falls back to a fixed message when there is no text", () => {
    const fallback = "The tool reported an error without a message";
    assert.equal(errorText({ isError: true, content: [] }), fallback);
    assert.equal(errorText({ isError: true, content: [text("  ")] }), fallback);
  });
});

describe("resultBody with integers beyond 2^53", () => {
  const BIG = "12345678901234567890";

  it("keeps them exact in JSON text", () => {
    assert.equal(stringifyJson(body([text(`{"id": ${BIG}}`)])), `{"id":${BIG}}`);
  });

  it("takes structured content's exact twin from the JSON text when both say the same", () => {
    const result = { content: [text(`{"id": ${BIG}}`)], structuredContent: { id: Number(BIG) } };
    assert.equal(stringifyJson(resultBody(result, true)), `{"id":${BIG}}`);
    const differs = { content: [text(`{"id": ${BIG}, "x": 1}`)], structuredContent: { id: Number(BIG) } };
    assert.deepEqual(resultBody(differs, true), { id: Number(BIG) });
  });
});
