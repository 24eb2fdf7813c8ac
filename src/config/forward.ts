import { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import type { ForwardConfig } from "./schema.js";

/**
 * Per-caller identity (`forward`): which caller headers a remote server is given, checked once at load. A name
 * that is not a header token, a header the proxy or HTTP itself owns, or a bare `*` is refused here, with the
 * key that holds it and never a value.
 */

/** RFC 9110 token, optionally ending in one `*` (a prefix match). */
const NAME_PATTERN = /^[!#$%&'+\-.^_`|~0-9A-Za-z]+\*?$/;

/**
 * Headers never forwarded, whatever the allow-list says: hop-by-hop headers (RFC 9110 §7.6.1), those the HTTP
 * client computes (Host, Content-Length...), those the MCP transport sets itself (the session, the revision, the
 * 2026-07-28 standard headers), and the proxy's own `X-Tool-Timeout`. Forwarding any of them would break the
 * upstream request or let a caller steer another caller's session.
 */
const NEVER_FORWARDED = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "accept",
  "accept-encoding",
  "last-event-id",
  "x-tool-timeout",
]);
/** Prefixes of headers the MCP transport owns: `Mcp-Session-Id`, `Mcp-Protocol-Version`, `Mcp-Method`, `Mcp-Param-*`. */
const NEVER_FORWARDED_PREFIX = "mcp-";

/** Headers a trailing-`*` pattern never matches: only an exact name forwards them (a cookie jar is rarely meant). */
const EXACT_ONLY = new Set(["cookie", "authorization"]);

/** Whether a (lower-case) header name may never be forwarded. */
export function neverForwarded(name: string): boolean {
  return NEVER_FORWARDED.has(name) || name.startsWith(NEVER_FORWARDED_PREFIX);
}

/** Whether a (lower-case) header name may be matched by a trailing-`*` pattern. */
export function wildcardMayMatch(name: string): boolean {
  return !neverForwarded(name) && !EXACT_ONLY.has(name);
}

/** A `{header.Name}` reference in a template. */
export const TEMPLATE_REFERENCE = /\{header\.([^{}\s]+)\}/g;

/** The caller headers a template reads (lower case). */
export function templateReferences(template: string): string[] {
  return [...template.matchAll(TEMPLATE_REFERENCE)].map((match) => match[1]!.toLowerCase());
}

const seconds = z.coerce.number({ error: "must be a number of seconds" }).positive("must be more than 0");

/** The `forward` block as users write it. */
export const forwardInputSchema = z
  .object({
    headers: z.array(z.string(), { error: "must be a list of header names" }).default([]),
    templates: z
      .record(z.string(), z.string(), { error: "must be an object of header names to templates" })
      .default({}),
    max_sessions: z.coerce.number().int("must be a whole number").min(1, "must be at least 1").optional(),
    session_idle_timeout: seconds.optional(),
  })
  .strict();
export type ForwardInput = z.output<typeof forwardInputSchema>;

/** Problems with a `forward` block, each naming the key; none means `resolveForward` may be called. */
export function forwardProblems(input: ForwardInput): string[] {
  const problems: string[] = [];
  input.headers.forEach((pattern, index) => {
    const name = pattern.toLowerCase();
    if (name === "*") {
      problems.push(
        `headers[${index}]: a bare "*" would forward every header, the proxy's own API key included: name the headers, or a prefix such as "X-OpenWebUI-User-*"`,
      );
    } else if (!NAME_PATTERN.test(pattern)) {
      problems.push(`headers[${index}]: ${JSON.stringify(pattern)} is not a header name (or a prefix ending in "*")`);
    } else if (!name.endsWith("*") && neverForwarded(name)) {
      problems.push(`headers[${index}]: "${pattern}" is set by the proxy or by HTTP itself and is never forwarded`);
    }
  });
  if (input.headers.length === 0 && Object.keys(input.templates).length === 0) {
    problems.push(`needs "headers" or "templates": with neither, every caller would be the same identity`);
  }
  for (const [name, template] of Object.entries(input.templates)) {
    if (!NAME_PATTERN.test(name) || name.endsWith("*")) {
      problems.push(`templates: ${JSON.stringify(name)} is not a header name`);
    } else if (neverForwarded(name.toLowerCase())) {
      problems.push(`templates.${name}: "${name}" is set by the proxy or by HTTP itself and cannot be templated`);
    }
    const references = templateReferences(template);
    if (references.length === 0) {
      problems.push(
        `templates.${name}: reads no caller header: use {header.Name} (a constant belongs in "headers" of the server)`,
      );
    }
    for (const reference of references) {
      if (neverForwarded(reference)) {
        problems.push(`templates.${name}: {header.${reference}} is set by the proxy or by HTTP itself`);
      }
    }
    if (/[\r\n\0]/.test(template)) problems.push(`templates.${name}: has a line break or NUL character`);
  }
  return problems;
}

/** The resolved block (names lower-cased, seconds to milliseconds, defaults filled). */
export function resolveForward(input: ForwardInput): ForwardConfig {
  return {
    headers: [...new Set(input.headers.map((name) => name.toLowerCase()))],
    templates: { ...input.templates },
    maxSessions: input.max_sessions ?? DEFAULTS.forward.max_sessions,
    sessionIdleTimeoutMs: Math.round((input.session_idle_timeout ?? DEFAULTS.forward.session_idle_timeout) * 1000),
  };
}

/** Whether forwarding passes the caller's `Authorization` on (listed, matched by a prefix, or read by a template). */
export function forwardsAuthorization(forward: ForwardConfig): boolean {
  return (
    forward.headers.includes("authorization") ||
    Object.values(forward.templates).some((template) => templateReferences(template).includes("authorization"))
  );
}

/**
 * The refusal for a server whose callers authenticate with a static API key (its own `api_key` or the global
 * `--api-key`) and that forwards `Authorization`: every call would hand the proxy's key to the upstream.
 */
export const API_KEY_CONFLICT =
  "forwards the caller's Authorization header, but callers authenticate to this server with the proxy's static API key (--api-key or api_key): the upstream would receive the proxy's key. Drop Authorization from forward, or drop the API key";

/** The refusal for forwarding Authorization to a server the proxy signs in to with OAuth (both would set it). */
export const OAUTH_CONFLICT =
  "forwards the caller's Authorization header, but the proxy signs in to this server with OAuth (its oauth block), which sets Authorization itself: forward other headers, or drop the oauth block";

/** The refusal for a stdio server. */
export const STDIO_CONFLICT =
  'stdio servers have one identity (one process, one environment): "forward" applies to sse and streamable-http servers only';
