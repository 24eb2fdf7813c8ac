import type { CallToolResult } from "@modelcontextprotocol/client";

type ContentItem = CallToolResult["content"][number];

/**
 * The HTTP body for a successful tool result, compatible with Python mcpo:
 * one item is returned as itself, several as an array; text is parsed as JSON
 * when it is JSON; images become data URLs. Where mcpo gives up we do not:
 * audio is a data URL too, an embedded resource is its text (or its blob as a
 * data URL), a resource link is the link object. A tool that declares an
 * outputSchema gets its `structuredContent` returned as is.
 */
export function resultBody(result: CallToolResult, hasOutputSchema: boolean): unknown {
  if (hasOutputSchema && result.structuredContent !== undefined) return result.structuredContent;
  const items = result.content.map(contentValue);
  return items.length === 1 ? items[0] : items;
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
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
