import type { CallToolResult } from "@modelcontextprotocol/client";
import { equalsRounded, mayHoldLongInteger, parseExact } from "../json/exact-integers.js";

type ContentItem = CallToolResult["content"][number];

/**
 * The HTTP body for a successful tool result, compatible with Python mcpo:
 * one item is returned as itself, several as an array; text is parsed as JSON
 * when it is JSON; images become data URLs. Where mcpo gives up we do not:
 * audio is a data URL too, an embedded resource is its text (or its blob as a
 * data URL), a resource link is the link object. A tool that declares an
 * outputSchema gets its `structuredContent` returned as is.
 *
 * Integers beyond 2^53 in JSON text come back digit for digit, as Python mcpo
 * returns them. `structuredContent` reaches us through the SDK's JSON.parse,
 * which has rounded them already; a structured tool also sends its result
 * as JSON text (MCP asks it to), and when that text holds long integers and
 * says the same as the rounded structuredContent, its exact reading is
 * returned instead.
 */
export function resultBody(result: CallToolResult, hasOutputSchema: boolean): unknown {
  if (hasOutputSchema && result.structuredContent !== undefined) return structuredBody(result);
  const items = result.content.map(contentValue);
  return items.length === 1 ? items[0] : items;
}

/**
 * An image type safe to answer from the proxy's own origin: no SVG (it may hold script), nothing that is not an
 * image at all, whatever the upstream claims.
 */
const SERVABLE_IMAGE = /^image\/(?!svg)[a-z0-9][a-z0-9.+-]*$/i;

/**
 * The one image of a result whose other items are all text (a caption, a note), or undefined: such a result can
 * be answered as the image itself (see image_results), its text then left out. Only SERVABLE_IMAGE types.
 */
export function soleImage(result: CallToolResult): { data: string; mimeType: string } | undefined {
  let image: { data: string; mimeType: string } | undefined;
  for (const item of result.content) {
    if (item.type === "text") continue;
    if (item.type !== "image" || image || !SERVABLE_IMAGE.test(item.mimeType)) return undefined;
    image = item;
  }
  return image;
}

/** The text of a failed tool call (`isError: true`), for the error message. */
export function errorText(result: CallToolResult): string {
  const texts = result.content.flatMap((item) => (item.type === "text" ? [item.text] : []));
  return texts.join("\n").trim() || "The tool reported an error without a message";
}

function contentValue(item: ContentItem): unknown {
  switch (item.type) {
    case "text":
      return parseJsonOr(item.text);
    case "image":
    case "audio":
      return `data:${item.mimeType};base64,${item.data}`;
    case "resource": {
      const resource = item.resource;
      if ("text" in resource && typeof resource.text === "string") return resource.text;
      if ("blob" in resource && typeof resource.blob === "string") {
        return `data:${resource.mimeType ?? "application/octet-stream"};base64,${resource.blob}`;
      }
      return resource;
    }
    case "resource_link":
      return item;
    default:
      return item;
  }
}

function parseJsonOr(text: string): unknown {
  // Cheap pre-check: most tool text is prose, and a failed JSON.parse costs an exception.
  const first = text.trimStart()[0];
  if (first === undefined || !`{["-0123456789tfn`.includes(first)) return text;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return text;
  }
  // Only a text with a run of 16 digits can hold an integer JSON.parse rounded: read it again, exactly.
  return mayHoldLongInteger(text) ? (parseExact(text) ?? value) : value;
}

/** structuredContent, or its exact twin from the result's JSON text (see resultBody). */
function structuredBody(result: CallToolResult): unknown {
  const structured = result.structuredContent;
  for (const item of result.content) {
    if (item.type !== "text" || !mayHoldLongInteger(item.text)) continue;
    const exact = parseExact(item.text);
    if (exact !== undefined && equalsRounded(exact, structured)) return exact;
  }
  return structured;
}
