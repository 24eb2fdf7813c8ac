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
  type ForwardConfig,
  type InboundAuthConfig,
  type LoadedServers,
  type TransportConfig,
} from "../config/schema.js";
import { authFileSchema, resolveInboundAuth, type AuthFileInput } from "../config/auth-schema.js";
import {
  API_KEY_CONFLICT,
  forwardInputSchema,
  forwardProblems,
  forwardsAuthorization,
  OAUTH_CONFLICT,
  resolveForward,
  STDIO_CONFLICT,
} from "../config/forward.js";
import { ConfigFileError, loadConfigFile } from "../config/load-config-file.js";
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

/** Seconds --shutdown-grace (and --shutdown-delay) takes at most (an hour: past that, something is wrong with the value). */
const MAX_SHUTDOWN_GRACE = 3600;

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
  mcp: z.boolean().default(true),
  metrics: z.boolean().default(DEFAULTS.metrics),
  metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
  accessLog: z.boolean().default(DEFAULTS.accessLog),
  mcpMaxSessions: z.coerce.number().int().min(1).default(DEFAULTS.mcp.max_sessions),
  mcpSessionIdleTimeout: z.coerce.number().positive().default(DEFAULTS.mcp.session_idle_timeout),
  shutdownGrace: z.coerce.number().min(0).max(MAX_SHUTDOWN_GRACE).default(DEFAULTS.shutdownGrace),
  shutdownDelay: z.coerce.number().min(0).max(MAX_SHUTDOWN_GRACE).default(DEFAULTS.shutdownDelay),
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
const OWN_SECRETS = ["MCPO_API_KEY", "MCPO_JWT_SECRET", "MCPO_OAUTH_CLIENT_SECRET"];

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
  oauthIssuer: ["--oauth-issuer", "issuer"],
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
  metricsPort: "--metrics-port",
  mcpMaxSessions: "--mcp-max-sessions",
  mcpSessionIdleTimeout: "--mcp-session-idle-timeout",
  shutdownGrace: "--shutdown-grace",
  shutdownDelay: "--shutdown-delay",
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
  image_results: "--image-results",
  jwt_secret: "--jwt-secret-file",
  jwt_header: "--jwt-header",
  oidc_issuer: "--oidc-issuer",
  oidc_audience: "--oidc-audience",
  oidc_jwks_url: "--oidc-jwks-url",
  oidc_algorithms: "--oidc-algorithms",
  jwt_clock_skew: "--jwt-clock-skew",
  jwks_timeout: "--jwks-timeout",
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
      image_results: options.imageResults,
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
  const forward = multi ? undefined : buildForward(options, cli.serverType, cli.apiKey !== undefined);
  if (
    multi &&
    ((options.forwardHeader ?? []).length > 0 || options.forwardMaxSessions || options.forwardSessionIdleTimeout)
  ) {
    throw new UsageError('--forward-header is set per server in the config file (its "forward" block)');
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
  if (oauth && forward && forwardsAuthorization(forward)) throw new UsageError(`--forward-header: ${OAUTH_CONFLICT}`);
  const servers = multi
    ? undefined
    : [
        {
          name: "",
          transport: withOAuth(buildTransport(cli.serverType, target, cli.header ?? {}, serverEnv), oauth),
          settings: resolveConnectionSettings(cli.connection),
          disabled: false,
          tools: { disabled: [] },
          ...(forward ? { forward } : {}),
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
              globalApiKey: cli.apiKey !== undefined,
              tokenDir,
              loginSuffix: tokenDirSuffix,
            }),
        };
  // The file is parsed here, at the edge: a bad one stops us before anything starts (ConfigFileError).
  const loaded = source?.load();
  const auth = buildInboundAuth(options, processEnv, loaded?.auth);
  if (cli.strictAuth && !cli.apiKey && !auth) {
    throw new UsageError("--strict-auth needs --api-key, or a JWT setting (--jwt-secret-file, --oidc-issuer)");
  }
  const startedWith = JSON.stringify(loaded?.auth);
  const checkedSource = source && {
    ...source,
    load: (): LoadedServers => {
      const again = withAllowChecked(source.path, source.load(), auth !== undefined);
      if (JSON.stringify(again.auth) === startedWith) return again;
      // Verifiers are built once, at start; say so rather than seem to apply it.
      return { ...again, warnings: [...again.warnings, "auth: changed, but applies only after a restart"] };
    },
  };
  if (loaded) withAllowChecked(source!.path, loaded, auth !== undefined);
  return {
    logLevel: cli.logLevel,
    warnings: [...(loaded?.warnings ?? []), ...authWarnings(auth)],
    config: {
      mode: multi ? "multi" : "single",
      pathPrefix: cli.pathPrefix,
      ...(checkedSource ? { source: checkedSource } : {}),
      http: {
        host: cli.host,
        port: cli.port,
        ...(cli.apiKey === undefined ? {} : { apiKey: cli.apiKey }),
        strictAuth: cli.strictAuth,
        ...(auth === undefined ? {} : { auth }),
        corsAllowOrigins: cli.corsAllowOrigins.length > 0 ? cli.corsAllowOrigins : [...DEFAULTS.corsAllowOrigins],
        rootPath: cli.rootPath,
        ...(cli.sslCertfile === undefined ? {} : { sslCertfile: cli.sslCertfile }),
        ...(cli.sslKeyfile === undefined ? {} : { sslKeyfile: cli.sslKeyfile }),
        maxBodyBytes: cli.maxBodySize,
        ...(cli.allowedHosts.length > 0 ? { allowedHosts: cli.allowedHosts } : {}),
        maxConnections: cli.maxConnections,
        mcp: cli.mcp
          ? { maxSessions: cli.mcpMaxSessions, sessionIdleMs: Math.round(cli.mcpSessionIdleTimeout * 1000) }
          : false,
        headersTimeoutMs: DEFAULTS.headersTimeout * 1000,
        keepAliveTimeoutMs: DEFAULTS.keepAliveTimeout * 1000,
        metrics: cli.metrics ? (cli.metricsPort === undefined ? {} : { port: cli.metricsPort }) : false,
        accessLog: cli.accessLog,
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
      shutdownGraceMs: Math.round(cli.shutdownGrace * 1000),
      shutdownDelayMs: Math.round(cli.shutdownDelay * 1000),
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

/** --forward-header (and its bounds) in single-server mode, checked as the config file's `forward` block is. */
function buildForward(
  options: CliOptions,
  type: z.output<typeof serverTypeSchema>,
  apiKey: boolean,
): ForwardConfig | undefined {
  const names = listOf(options.forwardHeader ?? []);
  if (names.length === 0) {
    if (options.forwardMaxSessions !== undefined || options.forwardSessionIdleTimeout !== undefined) {
      throw new UsageError("--forward-max-sessions and --forward-session-idle-timeout need --forward-header");
    }
    return undefined;
  }
  if (type === "stdio") throw new UsageError(`--forward-header: ${STDIO_CONFLICT}`);
  const parsed = forwardInputSchema.safeParse({
    headers: names,
    max_sessions: options.forwardMaxSessions,
    session_idle_timeout: options.forwardSessionIdleTimeout,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = issue.path[0] === "max_sessions" ? "--forward-max-sessions" : "--forward-session-idle-timeout";
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  const [problem] = forwardProblems(parsed.data);
  if (problem) throw new UsageError(`--forward-header: ${problem.replace(/^headers\[\d+\]: /, "")}`);
  const forward = resolveForward(parsed.data);
  if (forwardsAuthorization(forward) && apiKey) throw new UsageError(`--forward-header: ${API_KEY_CONFLICT}`);
  return forward;
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

/**
 * The JWT settings: the config file's `auth` block, each key overridden by its flag; the secret from
 * --jwt-secret-file or MCPO_JWT_SECRET (not a flag: a secret on the command line shows in `ps`), else the file's
 * `jwt_secret` or `jwt_secret_file`. Files are read once, here. Undefined when nothing asks for JWTs.
 */
function buildInboundAuth(
  options: CliOptions,
  processEnv: NodeJS.ProcessEnv,
  fromFile: AuthFileInput | undefined,
): InboundAuthConfig | undefined {
  const envSecret = processEnv.MCPO_JWT_SECRET === "" ? undefined : processEnv.MCPO_JWT_SECRET;
  if (envSecret !== undefined && options.jwtSecretFile !== undefined) {
    throw new UsageError("--jwt-secret-file: give the secret once: --jwt-secret-file or MCPO_JWT_SECRET");
  }
  const flags = authFileSchema.safeParse(
    dropUndefined({
      jwt_header: options.jwtHeader,
      oidc_issuer: options.oidcIssuer,
      oidc_audience: options.oidcAudience && listOf(options.oidcAudience),
      oidc_jwks_url: options.oidcJwksUrl,
      oidc_algorithms: options.oidcAlgorithms && listOf(options.oidcAlgorithms),
      jwt_clock_skew: options.jwtClockSkew,
      jwks_timeout: options.jwksTimeout,
    }),
  );
  if (!flags.success) {
    const issue = flags.error.issues[0]!;
    throw new UsageError(`${FLAG_NAMES[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`);
  }
  const { jwt_secret_file: fileSecretFile, jwt_secret: fileSecret, ...fileRest } = fromFile ?? {};
  if (fileSecret !== undefined && fileSecretFile !== undefined) {
    throw new UsageError("auth: give jwt_secret or jwt_secret_file, not both");
  }
  const secret =
    options.jwtSecretFile !== undefined
      ? readSecretFile("--jwt-secret-file", options.jwtSecretFile)
      : (envSecret ??
        fileSecret ??
        (fileSecretFile === undefined ? undefined : readSecretFile("auth.jwt_secret_file", fileSecretFile)));
  const resolved = resolveInboundAuth({
    ...fileRest,
    ...flags.data,
    ...(secret === undefined ? {} : { jwt_secret: secret }),
  });
  if ("problem" in resolved) throw new UsageError(resolved.problem);
  return resolved.auth;
}

/** RFC 7518 section 3.2: an HS256 key shorter than the hash (32 bytes) can be guessed from any one token. */
const MIN_SECRET_BYTES = 32;

function authWarnings(auth: InboundAuthConfig | undefined): string[] {
  const secret = auth?.openWebUi?.secret;
  if (secret === undefined || Buffer.byteLength(secret) >= MIN_SECRET_BYTES) return [];
  return [
    `the JWT secret is shorter than ${MIN_SECRET_BYTES} bytes: anyone holding one user token could guess it offline and sign as any user (make one with: openssl rand -hex 32)`,
  ];
}

/** A server's `allow` means nothing without a way to verify who calls: refused, not ignored. */
function withAllowChecked(file: string, loaded: LoadedServers, verifying: boolean): LoadedServers {
  if (verifying) return loaded;
  const guarded = loaded.servers.filter((server) => server.allow !== undefined).map((server) => server.name);
  if (guarded.length === 0) return loaded;
  throw new ConfigFileError(
    file,
    guarded.map(
      (name) =>
        `mcpServers.${name}.allow: needs JWT verification to know who calls (auth.jwt_secret, auth.oidc_issuer, or --jwt-secret-file, --oidc-issuer)`,
    ),
  );
}

function readSecretFile(what: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const secret = text.replace(/[\r\n]+$/, "");
  if (secret === "") throw new UsageError(`${what}: ${path} is empty`);
  return secret;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
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
