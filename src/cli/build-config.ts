import { readFileSync } from "node:fs";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { DEFAULTS } from "../config/defaults.js";
import {
  connectionSettingsInputSchema,
  headersSchema,
  logLevelSchema,
  protocolConflict,
  resolveConnectionSettings,
  serverTypeSchema,
  type AppConfig,
  type TransportConfig,
} from "../config/schema.js";
import { loadConfigFile } from "../config/load-config-file.js";
import { oauthInputSchema, resolveOAuth, resolveTokenDir } from "../config/oauth.js";
import type { OAuthSettings } from "../config/schema.js";
import { envProblems, moveUrlCredentials } from "../config/safe-values.js";
import { redactUrl } from "../errors/redact.js";
import type { LogLevelName } from "../log/logger.js";
import type { CliOptions } from "./program.js";
import { UsageError } from "./usage-error.js";

export interface CliConfig {
  config: AppConfig;
  logLevel: LogLevelName;
  /** Things in the config file we ignored (unknown keys...), to log once the logger exists. */
  warnings: readonly string[];
}

/** A JSON text that must parse into what `schema` accepts. */
const jsonOf = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `is not valid JSON (${(error as Error).message})` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const rootPathSchema = z
  .string()
  .transform((path) => path.trim().replace(/\/+$/, ""))
  .transform((path) => (path === "" || path.startsWith("/") ? path : `/${path}`));

const cliSchema = z.object({
  host: z.string().min(1, "must not be empty"),
  port: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .transform(Number)
    .pipe(z.number({ error: "must be a number" }).int("must be a whole number").min(0).max(65535)),
  serverType: serverTypeSchema,
  header: jsonOf(headersSchema).optional(),
  apiKey: z.string().min(1, "must not be empty").optional(),
  strictAuth: z.boolean().default(false),
  corsAllowOrigins: z.array(z.string()),
  allowedHosts: z.array(z.string()),
  maxConnections: z.coerce.number().int().min(1).default(DEFAULTS.maxConnections),
  name: z.string().optional(),
  description: z.string().optional(),
  version: z.string().optional(),
  logLevel: logLevelSchema,
  rootPath: rootPathSchema,
  sslCertfile: z.string().optional(),
  sslKeyfile: z.string().optional(),
  maxBodySize: z.coerce.number().int().min(1).default(DEFAULTS.maxBodySize),
  pathPrefix: z
    .string()
    .trim()
    .transform((prefix) => `/${prefix.replace(/^\/+|\/+$/g, "")}/`.replace(/^\/\/$/, "/")),
  connection: connectionSettingsInputSchema,
});

/** Environment variables the proxy reads for its own secrets: not passed on to stdio servers. */
const OWN_SECRETS = ["MCPO_API_KEY", "MCPO_OAUTH_CLIENT_SECRET"];

/** The single-server --oauth-* flags, with the `oauth` key each stands for. */
const OAUTH_FLAGS = {
  oauthGrant: ["--oauth-grant", "grant"],
  oauthClientId: ["--oauth-client-id", "client_id"],
  oauthClientSecretFile: ["--oauth-client-secret-file", "client_secret_file"],
  oauthClientMetadataUrl: ["--oauth-client-metadata-url", "client_metadata_url"],
  oauthTokenAuthMethod: ["--oauth-token-auth-method", "token_endpoint_auth_method"],
  oauthPrivateKeyFile: ["--oauth-private-key-file", "private_key_file"],
  oauthSigningAlgorithm: ["--oauth-signing-algorithm", "signing_algorithm"],
  oauthScope: ["--oauth-scope", "scope"],
  oauthRedirectPort: ["--oauth-redirect-port", "redirect_port"],
  oauthClientName: ["--oauth-client-name", "client_name"],
  oauthIdpTokenEndpoint: ["--oauth-idp-token-endpoint", "idp_token_endpoint"],
  oauthIdpClientId: ["--oauth-idp-client-id", "idp_client_id"],
  oauthIdpIdTokenFile: ["--oauth-idp-id-token-file", "idp_id_token_file"],
} as const satisfies Partial<Record<keyof CliOptions, readonly [string, string]>>;

/** commander's camelCase option names back to the flags the user typed. */
const FLAG_NAMES: Record<string, string> = {
  serverType: "--server-type",
  header: "--header",
  apiKey: "--api-key",
  logLevel: "--log-level",
  rootPath: "--root-path",
  maxBodySize: "--max-body-size",
  pathPrefix: "--path-prefix",
  corsAllowOrigins: "--cors-allow-origins",
  allowedHosts: "--allowed-hosts",
  maxConnections: "--max-connections",
  retry_attempts: "--retry-attempts",
  retry_delay: "--retry-delay",
  max_retry_delay: "--max-retry-delay",
  connection_timeout: "--connection-timeout",
  sse_read_timeout: "--sse-read-timeout",
  tool_timeout: "--tool-timeout",
  max_tool_timeout: "--max-tool-timeout",
  max_concurrency: "--max-concurrency",
  protocol: "--protocol",
  elicitation: "--elicitation",
};

/**
 * Validates the command line once, at the edge, and produces the typed
 * config the core runs on. Throws UsageError naming the offending flag.
 */
export function buildConfig(options: CliOptions, target: string[], processEnv: NodeJS.ProcessEnv): CliConfig {
  const parsed = cliSchema.safeParse({
    ...options,
    apiKey: readApiKey(options),
    serverType: options.serverType ?? options.type ?? DEFAULTS.serverType,
    corsAllowOrigins: listOf(options.corsAllowOrigins),
    allowedHosts: listOf(options.allowedHosts ?? []),
    connection: {
      retry_attempts: options.retryAttempts,
      retry_delay: options.retryDelay,
      max_retry_delay: options.maxRetryDelay,
      connection_timeout: options.connectionTimeout,
      sse_read_timeout: options.sseReadTimeout,
      tool_timeout: options.toolTimeout,
      max_tool_timeout: options.maxToolTimeout,
      max_concurrency: options.maxConcurrency,
      protocol: options.protocol,
      elicitation: options.elicitation,
    },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // The option is the first path segment (connection settings are nested one level down).
    const key = String((issue.path[0] === "connection" ? issue.path[1] : issue.path[0]) ?? "");
    const flag = FLAG_NAMES[key] ?? `--${key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  const cli = parsed.data;
  if (Boolean(cli.sslCertfile) !== Boolean(cli.sslKeyfile)) {
    throw new UsageError("--ssl-certfile and --ssl-keyfile go together: give both or neither");
  }
  if (cli.strictAuth && !cli.apiKey) throw new UsageError("--strict-auth needs --api-key");

  const serverEnv = readServerEnv(options);
  const baseEnv = stringEntries(processEnv);
  // The proxy's own key guards every server: never hand it to one of them (any stdio server inherits baseEnv).
  for (const name of OWN_SECRETS) delete baseEnv[name];
  const multi = options.config !== undefined;
  if (options.hotReload && !multi) throw new UsageError("--hot-reload needs --config");
  if (multi && target.length > 0)
    throw new UsageError("--config serves the servers of the file: drop the command after --");
  if (multi && (options.serverType ?? options.type ?? options.header) !== undefined) {
    throw new UsageError("--server-type and --header are set per server in the config file");
  }
  const oauthFlags = Object.keys(OAUTH_FLAGS).filter((key) => options[key as keyof CliOptions] !== undefined);
  if (multi && (options.oauth || oauthFlags.length > 0)) {
    throw new UsageError('--oauth and the --oauth-* flags are for one server; in a config file use its "oauth" block');
  }
  const tokenDir = resolveTokenDir(options.tokenDir, processEnv);
  const tokenDirSuffix = options.tokenDir === undefined ? "" : ` --token-dir ${tokenDir}`;
  const oauth =
    !multi && (options.oauth || oauthFlags.length > 0)
      ? buildOAuth(options, cli.serverType, target, tokenDir, tokenDirSuffix, processEnv)
      : undefined;
  const servers = multi
    ? undefined
    : [
        {
          name: "",
          transport: withOAuth(buildTransport(cli.serverType, target, cli.header ?? {}, serverEnv), oauth),
          settings: resolveConnectionSettings(cli.connection),
          disabled: false,
          tools: { disabled: [] },
        },
      ];
  const conflict = servers && protocolConflict(servers[0]!.transport, servers[0]!.settings);
  if (conflict) throw new UsageError(`--protocol: ${conflict}`);
  const source =
    options.config === undefined
      ? undefined
      : {
          path: options.config,
          hotReload: options.hotReload ?? false,
          load: () =>
            loadConfigFile(options.config!, {
              env: { ...baseEnv, ...serverEnv },
              cliSettings: cli.connection,
              tokenDir,
              loginSuffix: tokenDirSuffix,
            }),
        };
  // The file is parsed here, at the edge: a bad one stops us before anything starts (ConfigFileError).
  const loaded = source?.load();
  return {
    logLevel: cli.logLevel,
    warnings: loaded?.warnings ?? [],
    config: {
      mode: multi ? "multi" : "single",
      pathPrefix: cli.pathPrefix,
      ...(source ? { source } : {}),
      http: {
        host: cli.host,
        port: cli.port,
        ...(cli.apiKey === undefined ? {} : { apiKey: cli.apiKey }),
        strictAuth: cli.strictAuth,
        corsAllowOrigins: cli.corsAllowOrigins.length > 0 ? cli.corsAllowOrigins : [...DEFAULTS.corsAllowOrigins],
        rootPath: cli.rootPath,
        ...(cli.sslCertfile === undefined ? {} : { sslCertfile: cli.sslCertfile }),
        ...(cli.sslKeyfile === undefined ? {} : { sslKeyfile: cli.sslKeyfile }),
        maxBodyBytes: cli.maxBodySize,
        ...(cli.allowedHosts.length > 0 ? { allowedHosts: cli.allowedHosts } : {}),
        maxConnections: cli.maxConnections,
        headersTimeoutMs: DEFAULTS.headersTimeout * 1000,
        keepAliveTimeoutMs: DEFAULTS.keepAliveTimeout * 1000,
      },
      doc: {
        ...(cli.name === undefined ? {} : { title: cli.name }),
        ...(cli.description === undefined ? {} : { description: cli.description }),
        ...(cli.version === undefined ? {} : { version: cli.version }),
      },
      servers: servers ?? loaded?.servers ?? [],
      // --env and --env-path reach every stdio server of a config file, as with Python mcpo.
      baseEnv: multi ? { ...baseEnv, ...serverEnv } : baseEnv,
      healthCheckTimeoutMs: DEFAULTS.healthCheckTimeout * 1000,
      shutdownGraceMs: DEFAULTS.shutdownGrace * 1000,
    },
  };
}

function buildTransport(
  type: z.output<typeof serverTypeSchema>,
  target: string[],
  headers: Record<string, string>,
  env: Record<string, string>,
): TransportConfig {
  if (type === "stdio") {
    const [command, ...args] = target;
    if (!command) throw new UsageError("missing the server command: mcpo [options] -- <command> [args...]");
    return { type, command, args, env };
  }
  if (target.length !== 1) {
    throw new UsageError(`--server-type ${type} takes exactly one URL after --, got ${target.length} arguments`);
  }
  const url = z.url({ protocol: /^https?$/ }).safeParse(target[0]);
  if (!url.success) throw new UsageError(`not an http(s) URL: ${JSON.stringify(redactUrl(target[0]!))}`);
  const moved = moveUrlCredentials(url.data, headers);
  if ("problem" in moved) throw new UsageError(`the upstream URL ${moved.problem} (--header)`);
  return { type, ...moved };
}

function withOAuth(transport: TransportConfig, oauth: OAuthSettings | undefined): TransportConfig {
  return oauth && transport.type !== "stdio" ? { ...transport, oauth } : transport;
}

/** --oauth and the --oauth-* flags, checked by the config file's `oauth` schema; errors name the flag. */
function buildOAuth(
  options: CliOptions,
  type: z.output<typeof serverTypeSchema>,
  target: string[],
  tokenDir: string,
  tokenDirSuffix: string,
  env: NodeJS.ProcessEnv,
): OAuthSettings {
  if (type === "stdio") {
    throw new UsageError(
      "--oauth: OAuth is for sse and streamable-http servers; a stdio server has no HTTP to authorize",
    );
  }
  const input: Record<string, string> = {};
  for (const [key, [, name]] of Object.entries(OAUTH_FLAGS)) {
    const value = options[key as keyof CliOptions];
    if (typeof value === "string") input[name] = value;
  }
  const parsed = oauthInputSchema.safeParse(input);
  const flagOf = (name: string): string =>
    Object.values(OAUTH_FLAGS).find(([, key]) => key === name)?.[0] ??
    (name === "client_secret" ? "--oauth-client-secret-file" : "--oauth");
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${flagOf(String(issue.path[0] ?? ""))}: ${issue.message}`);
  }
  // The same command line, as `mcpo auth` takes it (flags only: the values are not secrets).
  const flags = Object.entries(OAUTH_FLAGS)
    .filter(([key]) => typeof options[key as keyof CliOptions] === "string")
    .map(([key, [flag]]) => `${flag} ${quote(String(options[key as keyof CliOptions]))}`);
  const loginCommand = [
    "mcpo auth",
    ...(flags.length > 0 ? flags : ["--oauth"]),
    `--server-type ${type}${tokenDirSuffix}`,
    "--",
    quote(redactUrl(target[0] ?? "")),
  ].join(" ");
  const problems: string[] = [];
  const envSecret = env.MCPO_OAUTH_CLIENT_SECRET;
  const resolved = resolveOAuth(
    parsed.data,
    { baseDir: process.cwd(), tokenDir, loginCommand, ...(envSecret ? { envSecret } : {}) },
    problems,
  );
  if (!resolved) {
    const [problem = "invalid"] = problems;
    const key = problem.slice(0, problem.indexOf(":"));
    throw new UsageError(`${flagOf(key)}: ${problem.slice(problem.indexOf(":") + 2)}`);
  }
  return resolved;
}

/** A word for a shell command line: quoted when it has anything but safe characters. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * --api-key, MCPO_API_KEY or --api-key-file (a key on the command line shows in `ps`): the file is read once,
 * here, its trailing line break dropped.
 */
function readApiKey(options: CliOptions): string | undefined {
  if (options.apiKeyFile === undefined) return options.apiKey;
  if (options.apiKey !== undefined) {
    throw new UsageError("--api-key-file: give the key once: --api-key (or MCPO_API_KEY) or --api-key-file");
  }
  let text: string;
  try {
    text = readFileSync(options.apiKeyFile, "utf8");
  } catch (error) {
    throw new UsageError(
      `--api-key-file: cannot read ${options.apiKeyFile} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const key = text.replace(/[\r\n]+$/, "");
  if (key === "") throw new UsageError(`--api-key-file: ${options.apiKeyFile} is empty`);
  return key;
}

/** --env-path (a dotenv file) then --env KEY=VALUE, the latter winning. */
function readServerEnv(options: CliOptions): Record<string, string> {
  const env: Record<string, string> = {};
  if (options.envPath) {
    let text: string;
    try {
      text = readFileSync(options.envPath, "utf8");
    } catch (error) {
      throw new UsageError(
        `--env-path: cannot read ${options.envPath} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    const fromFile = parseDotenv(text);
    const [problem] = envProblems(fromFile);
    if (problem) throw new UsageError(`--env-path: ${problem}`);
    Object.assign(env, fromFile);
  }
  for (const entry of options.env) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env: expected KEY=VALUE, got a value without "=" or a name`);
    const [problem] = envProblems({ [entry.slice(0, eq)]: entry.slice(eq + 1) });
    if (problem) throw new UsageError(`--env: ${problem}`);
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** A repeatable, comma-separable flag's values. */
function listOf(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);
}

function stringEntries(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
