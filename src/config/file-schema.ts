import { z } from "zod";
import { checkWith, envProblems, headerProblems, headerValueProblem } from "./safe-values.js";
import { oauthInputSchema } from "./oauth.js";
import { connectionSettingsInputSchema, normalizeServerType } from "./schema.js";

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `required${what}` : `must be a string`;

const toolList = z.array(z.string(), { error: "must be a list of tool names" });
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String), {
  error: "must be an object of names to string values",
});
const flag = z.boolean({ error: "must be true or false" });

/** Keys every server may have, whatever its transport. */
const commonKeys = {
  disabled: flag.default(false),
  disabledTools: toolList.optional(),
  disabled_tools: toolList.optional(),
  enabledTools: toolList.optional(),
  enabled_tools: toolList.optional(),
  connection_settings: connectionSettingsInputSchema.optional(),
  api_key: z.string().min(1, "must not be empty").optional(),
};

const stdioServerSchema = z.object({
  type: z.literal("stdio"),
  command: z
    .string({ error: required(' for a stdio server (or give "url" for a remote one)') })
    .min(1, "must not be empty"),
  args: z.array(z.string(), { error: "must be a list of strings" }).default([]),
  env: stringMap.superRefine(checkWith(envProblems)).default({}),
  cwd: z.string().optional(),
  ...commonKeys,
});

const remoteServerSchema = <T extends "sse" | "streamable-http">(type: T) =>
  z.object({
    type: z.literal(type),
    url: z
      .string({ error: required(` for type "${type}"`) })
      .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })),
    headers: stringMap.superRefine(checkWith(headerProblems)).default({}),
    /** Shorthand for `headers: {"Authorization": "Bearer <token>"}`; empty (e.g. `${TOKEN:-}`) means none. */
    auth_token: z
      .string({ error: "must be a string" })
      .superRefine(
        checkWith((token: string) => {
          const problem = headerValueProblem(token);
          return problem ? [`has ${problem}`] : [];
        }),
      )
      .optional(),
    verify_ssl: flag.default(true),
    ssl_ca_path: z.string().optional(),
    ssl_cert_path: z.string().optional(),
    ssl_key_path: z.string().optional(),
    /** OAuth 2.1 to this upstream (see src/config/oauth.ts). */
    oauth: oauthInputSchema.optional(),
    ...commonKeys,
  });

/**
 * A server entry: stdio (`command`) or remote (`url`, with `type` sse or
 * streamable-http; `url` without `type` means legacy SSE, as in Python mcpo).
 */
export const serverEntrySchema = z.preprocess(
  (raw) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
    const entry = raw as Record<string, unknown>;
    const type =
      entry.type !== undefined
        ? typeof entry.type === "string"
          ? (normalizeServerType(entry.type) ?? entry.type)
          : entry.type
        : entry.command !== undefined
          ? "stdio"
          : entry.url !== undefined
            ? "sse"
            : undefined;
    return { ...entry, type };
  },
  z.discriminatedUnion("type", [stdioServerSchema, remoteServerSchema("sse"), remoteServerSchema("streamable-http")], {
    error: (issue) => {
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      if (typeof issue.input !== "object" || issue.input === null) return "must be an object";
      return type === undefined
        ? 'needs "command" (a stdio server) or "url" (an SSE or Streamable HTTP server)'
        : `unknown transport type ${JSON.stringify(type)}: use stdio, sse or streamable-http`;
    },
  }),
);
export type ServerEntry = z.output<typeof serverEntrySchema>;

export const configFileSchema = z.object(
  {
    mcpServers: z.record(z.string(), z.unknown(), {
      error: 'must be an object of servers: {"mcpServers": {"name": {...}}}',
    }),
    connection_settings: connectionSettingsInputSchema.optional(),
  },
  { error: 'must be a JSON object: {"mcpServers": {...}}' },
);

/** Keys we understand, for the "unknown key" warnings. */
export const KNOWN_KEYS = {
  top: ["mcpServers", "connection_settings"],
  stdio: Object.keys(stdioServerSchema.shape),
  remote: Object.keys(remoteServerSchema("sse").shape),
  settings: Object.keys(connectionSettingsInputSchema.shape),
};
