import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import { OAUTH_GRANTS, TOKEN_AUTH_METHODS, type OAuthSettings } from "./schema.js";

const text = z.string({ error: "must be a string" }).min(1, "must not be empty");
const httpsOrLoopback = z
  .string({ error: "must be a string" })
  .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }));

/**
 * The `oauth` block of a remote server, as written in a config file (snake_case). The single-server flags are
 * turned into the same object, so both are checked by this one schema.
 */
export const oauthInputSchema = z.object({
  grant: z
    .enum(OAUTH_GRANTS, { error: `must be one of ${OAUTH_GRANTS.join(", ")}` })
    .default(DEFAULTS.oauth.grant as (typeof OAUTH_GRANTS)[number]),
  client_id: text.optional(),
  client_secret: text.optional(),
  client_secret_file: text.optional(),
  client_metadata_url: z
    .string({ error: "must be a string" })
    .pipe(z.url({ protocol: /^https$/, error: "must be an https URL (the client id is this URL)" }))
    .optional(),
  token_endpoint_auth_method: z
    .enum(TOKEN_AUTH_METHODS, { error: `must be one of ${TOKEN_AUTH_METHODS.join(", ")}` })
    .optional(),
  private_key_file: text.optional(),
  signing_algorithm: text.optional(),
  scope: text.optional(),
  redirect_port: z.coerce
    .number({ error: "must be a port number" })
    .int("must be a whole number")
    .min(0)
    .max(65535)
    .default(DEFAULTS.oauth.redirect_port),
  client_name: text.default(DEFAULTS.oauth.client_name),
  /** The authorization server (its issuer URL) a pre-registered client belongs to: its credentials go nowhere else. */
  issuer: httpsOrLoopback.optional(),
  idp_token_endpoint: httpsOrLoopback.optional(),
  idp_client_id: text.optional(),
  idp_client_secret: text.optional(),
  idp_client_secret_file: text.optional(),
  idp_id_token_file: text.optional(),
});
export type OAuthInput = z.input<typeof oauthInputSchema>;

export interface OAuthContext {
  /** Folder relative file names are resolved against (the config file's, or the working directory). */
  baseDir: string;
  tokenDir: string;
  loginCommand: string;
  /** MCPO_OAUTH_CLIENT_SECRET and the like, when no file is given. */
  envSecret?: string;
}

/**
 * Checks the combination of keys and reads the secret files, once, at load. Each problem names the key, never a
 * value. Returns undefined when there were problems (pushed onto `problems`).
 */
export function resolveOAuth(
  input: z.output<typeof oauthInputSchema>,
  context: OAuthContext,
  problems: string[],
): OAuthSettings | undefined {
  const before = problems.length;
  const readSecret = (key: string, file: string | undefined): string | undefined => {
    if (file === undefined) return undefined;
    const path = resolve(context.baseDir, file);
    try {
      const value = readFileSync(path, "utf8").replace(/[\r\n]+$/, "");
      if (value === "") problems.push(`${key}: ${path} is empty`);
      return value;
    } catch (error) {
      problems.push(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
      return undefined;
    }
  };
  if (input.client_secret !== undefined && input.client_secret_file !== undefined) {
    problems.push("client_secret_file: give the secret once (client_secret or client_secret_file)");
  }
  const clientSecret =
    input.client_secret ?? readSecret("client_secret_file", input.client_secret_file) ?? context.envSecret;
  const privateKey = readSecret("private_key_file", input.private_key_file);
  const idpSecret = input.idp_client_secret ?? readSecret("idp_client_secret_file", input.idp_client_secret_file);
  const method = input.token_endpoint_auth_method;
  if (input.client_id !== undefined && input.client_metadata_url !== undefined) {
    problems.push("client_metadata_url: the client id is this URL; drop client_id");
  }
  if (method === "private_key_jwt" && privateKey === undefined) {
    problems.push("private_key_file: token_endpoint_auth_method private_key_jwt needs a private key (PEM)");
  }
  if (privateKey !== undefined && method !== undefined && method !== "private_key_jwt") {
    problems.push(`private_key_file: only used with token_endpoint_auth_method private_key_jwt, not ${method}`);
  }
  if ((method === "client_secret_basic" || method === "client_secret_post") && clientSecret === undefined) {
    problems.push(`client_secret: token_endpoint_auth_method ${method} needs a client secret`);
  }
  if (input.grant === "client_credentials" || input.grant === "cross_app_access") {
    if (input.client_id === undefined) problems.push(`client_id: grant ${input.grant} needs a pre-registered client`);
    if (input.grant === "client_credentials" && clientSecret === undefined && privateKey === undefined) {
      problems.push("client_secret: grant client_credentials needs a client secret or a private key");
    }
  }
  const idpGiven = [input.idp_token_endpoint, input.idp_client_id, input.idp_id_token_file];
  if (input.grant === "cross_app_access" && idpGiven.some((value) => value === undefined)) {
    problems.push(
      "idp_token_endpoint: grant cross_app_access needs idp_token_endpoint, idp_client_id and idp_id_token_file",
    );
  }
  if (input.grant !== "cross_app_access" && idpGiven.some((value) => value !== undefined)) {
    problems.push("idp_token_endpoint: the idp_* keys are for grant cross_app_access only");
  }
  if (problems.length > before) return undefined;
  return {
    grant: input.grant,
    ...(input.client_id === undefined ? {} : { clientId: input.client_id }),
    ...(clientSecret === undefined ? {} : { clientSecret }),
    ...(input.client_metadata_url === undefined ? {} : { clientMetadataUrl: input.client_metadata_url }),
    ...(method === undefined ? {} : { tokenEndpointAuthMethod: method }),
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(input.signing_algorithm === undefined ? {} : { signingAlgorithm: input.signing_algorithm }),
    ...(input.scope === undefined ? {} : { scope: input.scope }),
    redirectPort: input.redirect_port,
    clientName: input.client_name,
    ...(input.issuer === undefined ? {} : { issuer: input.issuer }),
    tokenDir: context.tokenDir,
    loginCommand: context.loginCommand,
    ...(input.grant === "cross_app_access"
      ? {
          idp: {
            tokenEndpoint: input.idp_token_endpoint!,
            clientId: input.idp_client_id!,
            ...(idpSecret === undefined ? {} : { clientSecret: idpSecret }),
            idTokenFile: resolve(context.baseDir, input.idp_id_token_file!),
          },
        }
      : {}),
  };
}

/** --token-dir, else MCPO_TOKEN_DIR, else ${XDG_STATE_HOME:-~/.local/state}/mcpo-ts/oauth; absolute. */
export function resolveTokenDir(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const given = flag ?? env.MCPO_TOKEN_DIR;
  if (given) return resolve(given);
  const state =
    env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), ".local", "state");
  return join(state, DEFAULTS.oauth.token_subdir);
}
