import type { JsonSchema } from "./json-schema.js";

/**
 * Media type a caller puts in `Accept` to get the tool's whole MCP
 * `CallToolResult` (content with annotations and `_meta`, structuredContent,
 * isError, `_meta`) instead of the mcpo-compatible body. Answered with
 * status 200 even when `isError` is true: the result says so itself.
 */
export const RAW_RESULT_MEDIA_TYPE = "application/vnd.mcp.tool-result+json";

const object = { type: "object", additionalProperties: true };

/** An MCP `CallToolResult` (MCP 2025-06-18), loose: later spec versions may add fields. */
export const CALL_TOOL_RESULT_SCHEMA: JsonSchema = {
  type: "object",
  description: "The tool's MCP CallToolResult, as the upstream answered it",
  required: ["content"],
  properties: {
    content: {
      type: "array",
      items: {
        type: "object",
        required: ["type"],
        additionalProperties: true,
        properties: {
          type: { type: "string", enum: ["text", "image", "audio", "resource", "resource_link"] },
          text: { type: "string" },
          data: { type: "string", contentEncoding: "base64" },
          mimeType: { type: "string" },
          resource: {
            type: "object",
            required: ["uri"],
            additionalProperties: true,
            properties: {
              uri: { type: "string" },
              mimeType: { type: "string" },
              text: { type: "string" },
              blob: { type: "string", contentEncoding: "base64" },
            },
          },
          uri: { type: "string" },
          name: { type: "string" },
          description: { type: "string" },
          annotations: object,
          _meta: object,
        },
      },
    },
    structuredContent: object,
    isError: { type: "boolean" },
    _meta: object,
  },
};
