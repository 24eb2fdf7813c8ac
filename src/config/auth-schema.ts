import { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import { JWKS_ALGORITHMS, type AllowList, type InboundAuthConfig } from "./schema.js";

const names = (what: string) =>
  z.array(z.string().min(1, "must not be empty"), { error: `must be a list of ${what}` }).default([]);

/**
 * A server's `allow` block. Unknown keys are errors, not warnings: a misspelt list (`user`) would leave a server
 * that nobody may call, or, worse, one the author believes is guarded by a list that is not read.
 */
export const allowSchema = z
  .strictObject(
    { users: names("user ids or emails"), roles: names("roles"), groups: names("groups") },
    { error: 'must be an object such as {"users": [...], "roles": [...], "groups": [...]}' },
  )
  .refine((allow) => allow.users.length + allow.roles.length + allow.groups.length > 0, {
    error: "names no users, roles or groups: nobody could call this server (drop the block to allow any caller)",
  }) satisfies z.ZodType<AllowList>;

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

/** The config file's top-level `auth` block: the same settings as the flags, in snake_case. */
export const authFileSchema = z.strictObject(
  {
    jwt_secret: z.string({ error: "must be a string" }).min(1, "must not be empty").optional(),
    jwt_secret_file: z.string({ error: "must be a path" }).min(1, "must not be empty").optional(),
    jwt_header: z
      .string({ error: "must be a header name" })
      .regex(/^[A-Za-z0-9-]+$/, "must be a header name")
      .optional(),
    oidc_issuer: httpUrl.optional(),
    oidc_audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: "must be a string or a non-empty list of strings",
      })
      .optional(),
    oidc_jwks_url: httpUrl.optional(),
    oidc_algorithms: z
      .array(
        z.enum(JWKS_ALGORITHMS, {
          error: (issue) =>
            `${JSON.stringify(issue.input)} is not accepted: use ${JWKS_ALGORITHMS.join(", ")} (none and HS* are never accepted against a JWKS)`,
        }),
      )
      .min(1, "must name at least one algorithm")
      .optional(),
    jwt_clock_skew: z.coerce.number({ error: "must be a number of seconds" }).min(0).max(3600).optional(),
    jwks_timeout: z.coerce.number({ error: "must be a number of seconds" }).min(0.001).max(120).optional(),
  },
  { error: "must be an object" },
);
export type AuthFileInput = z.output<typeof authFileSchema>;

/** The auth settings after flags and file are merged, the secret read: `jwt_secret_file` is gone by now. */
export type AuthInput = Omit<AuthFileInput, "jwt_secret_file">;

/**
 * The typed inbound-auth config, or a problem naming the setting. Undefined when no JWT setting is given: then
 * only API keys authenticate, exactly as before.
 */
export function resolveInboundAuth(input: AuthInput): { auth?: InboundAuthConfig } | { problem: string } {
  const { jwt_secret: secret, oidc_issuer: issuer, oidc_audience: audience, oidc_jwks_url: jwksUrl } = input;
  if (issuer === undefined) {
    if (audience !== undefined || jwksUrl !== undefined || input.oidc_algorithms !== undefined) {
      return { problem: "oidc_audience, oidc_jwks_url and oidc_algorithms need oidc_issuer (--oidc-issuer)" };
    }
  } else if (audience === undefined) {
    // Without it, a token the same provider issued to any other application would open this gateway.
    return { problem: "oidc_issuer needs oidc_audience (--oidc-audience): the audience tokens must be issued for" };
  }
  if (secret === undefined && issuer === undefined) return {};
  return {
    auth: {
      ...(secret === undefined ? {} : { openWebUi: { secret, header: input.jwt_header ?? DEFAULTS.auth.jwt_header } }),
      ...(issuer === undefined
        ? {}
        : {
            oidc: {
              issuer,
              audience: typeof audience === "string" ? [audience] : (audience ?? []),
              ...(jwksUrl === undefined ? {} : { jwksUrl }),
              algorithms: input.oidc_algorithms ?? [...JWKS_ALGORITHMS],
            },
          }),
      clockSkewSeconds: input.jwt_clock_skew ?? DEFAULTS.auth.jwt_clock_skew,
      fetchTimeoutMs: Math.round((input.jwks_timeout ?? DEFAULTS.auth.jwks_timeout) * 1000),
    },
  };
}
