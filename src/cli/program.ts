import { Command, Option } from "commander";
import { DEFAULTS } from "../config/defaults.js";
import { LOG_LEVELS } from "../log/logger.js";

/** Options as commander hands them over: strings, to be validated by buildConfig. */
export interface CliOptions {
  host: string;
  port: string;
  serverType?: string;
  type?: string;
  header?: string;
  apiKey?: string;
  apiKeyFile?: string;
  strictAuth?: boolean;
  jwtSecretFile?: string;
  jwtHeader?: string;
  oidcIssuer?: string;
  oidcAudience?: string[];
  oidcJwksUrl?: string;
  oidcAlgorithms?: string[];
  jwtClockSkew?: string;
  jwksTimeout?: string;
  corsAllowOrigins: string[];
  allowedHosts?: string[];
  maxConnections?: string;
  /** commander's `--no-mcp`: false when given. */
  mcp?: boolean;
  /** commander's `--no-metrics`: false when given. */
  metrics?: boolean;
  metricsPort?: string;
  /** `--access-log`: true when given. */
  accessLog?: boolean;
  mcpMaxSessions?: string;
  mcpSessionIdleTimeout?: string;
  shutdownGrace?: string;
  shutdownDelay?: string;
  name?: string;
  description?: string;
  version?: string;
  logLevel: string;
  env: string[];
  envPath?: string;
  rootPath: string;
  sslCertfile?: string;
  sslKeyfile?: string;
  connectionTimeout?: string;
  retryAttempts?: string;
  retryDelay?: string;
  maxRetryDelay?: string;
  sseReadTimeout?: string;
  toolTimeout?: string;
  maxToolTimeout?: string;
  maxConcurrency?: string;
  maxBodySize?: string;
  protocol?: string;
  elicitation?: string;
  imageResults?: string;
  config?: string;
  hotReload?: boolean;
  pathPrefix: string;
  forwardHeader?: string[];
  forwardMaxSessions?: string;
  forwardSessionIdleTimeout?: string;
  tokenDir?: string;
  oauth?: boolean;
  oauthGrant?: string;
  oauthClientId?: string;
  oauthClientSecretFile?: string;
  oauthClientMetadataUrl?: string;
  oauthTokenAuthMethod?: string;
  oauthPrivateKeyFile?: string;
  oauthSigningAlgorithm?: string;
  oauthScope?: string;
  oauthRedirectPort?: string;
  oauthClientName?: string;
  oauthIssuer?: string;
  oauthIdpTokenEndpoint?: string;
  oauthIdpClientId?: string;
  oauthIdpIdTokenFile?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
/** A repeatable flag whose absence must stay visible (undefined), so that the config file's value applies. */
const collectSome = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const c = DEFAULTS.connection;

/** The `mcpo` command line: Python mcpo's flags and spellings, plus our own connection settings. */
export function createProgram(): Command {
  return new Command("mcpo")
    .description("Expose an MCP server (stdio, SSE or Streamable HTTP) as a REST API with OpenAPI 3.1 docs.")
    .usage(
      "[options] -- <command [args...] | url>\n       mcpo [options] --config <file>\n       mcpo auth [server] --config <file>   (log in to an OAuth upstream; mcpo auth --help)",
    )
    .argument("[target...]", "after --: the stdio server's command line, or the URL of an SSE / Streamable HTTP server")
    .option(
      "-c, --config <file>",
      'serve many servers from a config file ({"mcpServers": {...}}, as Claude Desktop and mcpo)',
    )
    .option("--hot-reload", "with --config: apply changes to the file without a restart")
    .option("--path-prefix <prefix>", "with --config: where servers are mounted, e.g. /tools/", DEFAULTS.pathPrefix)
    .option("--host <host>", "address to listen on", DEFAULTS.host)
    .option("-p, --port <port>", "port to listen on (0 picks a free one)", String(DEFAULTS.port))
    .option(
      "--server-type <type>",
      "upstream transport: stdio, sse or streamable-http (also streamable_http, streamablehttp)",
    )
    .addOption(new Option("--type <type>", "alias of --server-type").hideHelp())
    .option(
      "-H, --header <json>",
      'headers sent to an SSE / Streamable HTTP upstream, as a JSON object: \'{"Authorization": "Bearer x"}\'',
    )
    .addOption(
      new Option(
        "-k, --api-key <key>",
        "require 'Authorization: Bearer <key>' on tool routes (401 missing, 403 wrong)",
      ).env("MCPO_API_KEY"),
    )
    .option("--api-key-file <file>", "read the --api-key from a file (a key on the command line shows in ps)")
    .option("--strict-auth", "with --api-key or a JWT setting: protect /docs, /openapi.json and /health too")
    .option(
      "--jwt-secret-file <file>",
      "accept Open WebUI's signed user header (HS256) made with the secret in this file (or env MCPO_JWT_SECRET)",
    )
    .option("--jwt-header <name>", `header of Open WebUI's user token (default: ${DEFAULTS.auth.jwt_header})`)
    .option(
      "--oidc-issuer <url>",
      "accept OIDC bearer JWTs from this issuer (exactly its iss), checked against its JWKS",
    )
    .addOption(
      new Option(
        "--oidc-audience <aud>",
        "audience OIDC tokens must be issued for (needed with --oidc-issuer); repeatable",
      ).argParser(collectSome),
    )
    .option("--oidc-jwks-url <url>", "the issuer's JWKS (default: jwks_uri of its /.well-known/openid-configuration)")
    .addOption(
      new Option(
        "--oidc-algorithms <alg>",
        "signature algorithms accepted on OIDC tokens; repeatable (default: RS*, PS*, ES*, EdDSA; never none or HS*)",
      ).argParser(collectSome),
    )
    .option("--jwt-clock-skew <seconds>", `leeway on exp and nbf (default: ${DEFAULTS.auth.jwt_clock_skew})`)
    .option(
      "--jwks-timeout <seconds>",
      `bound on fetching the JWKS or openid-configuration (default: ${DEFAULTS.auth.jwks_timeout})`,
    )
    .addOption(
      new Option("--cors-allow-origins <origin>", "allowed CORS origin; repeat or comma-separate for several")
        .argParser(collect)
        .default([], "*"),
    )
    .addOption(
      new Option(
        "--allowed-hosts <host>",
        "Host header names served (any port), against DNS rebinding; repeat or comma-separate, * for any",
      )
        .argParser(collect)
        .default([], `${DEFAULTS.loopbackHosts.join(",")} when --host is loopback, else *`),
    )
    .option(
      "--max-connections <n>",
      `open client connections at most; the longest-idle one makes room (default: ${DEFAULTS.maxConnections})`,
    )
    .option("--no-mcp", "serve REST only: no MCP endpoints (/mcp, /{server}/mcp)")
    .option("--no-metrics", "no Prometheus metrics: no /metrics route, nothing counted")
    .option("--metrics-port <n>", "serve /metrics on this port (same host) instead of the main one")
    .option("--access-log", "one `request` log line per answer (method, route, status, duration; never arguments)")
    .option(
      "--mcp-max-sessions <n>",
      `MCP sessions (2025 Streamable HTTP and legacy SSE) open at once per MCP endpoint (default: ${DEFAULTS.mcp.max_sessions})`,
    )
    .option(
      "--mcp-session-idle-timeout <seconds>",
      `an MCP session unused this long is closed (default: ${DEFAULTS.mcp.session_idle_timeout})`,
    )
    .option(
      "--shutdown-grace <seconds>",
      `on SIGTERM, how long calls in flight may take to finish while new ones get 503 (default: ${DEFAULTS.shutdownGrace})`,
    )
    .option(
      "--shutdown-delay <seconds>",
      `on SIGTERM, keep answering 503 shutting_down at least this long before closing, so balancers notice (default: ${DEFAULTS.shutdownDelay})`,
    )
    .option("-n, --name <title>", "title of the API document (default: the upstream's name)")
    .option("-d, --description <text>", "description of the API document")
    .option("-v, --version <version>", "version of the API document (default: the upstream's version)")
    .option("--log-level <level>", `one of ${LOG_LEVELS.join(", ")}`, DEFAULTS.logLevel)
    .addOption(
      new Option("-e, --env <KEY=VALUE>", "environment variable for a stdio server; repeatable")
        .argParser(collect)
        .default([], "none"),
    )
    .option("--env-path <file>", "dotenv file of environment variables for a stdio server")
    .option("--root-path <path>", "path prefix when served behind a reverse proxy, e.g. /mcpo", DEFAULTS.rootPath)
    .option("-t, --ssl-certfile <file>", "TLS certificate (PEM): serve HTTPS")
    .option("-K, --ssl-keyfile <file>", "TLS private key (PEM)")
    .option("--connection-timeout <seconds>", `bound on dialing + MCP initialize (default: ${c.connection_timeout})`)
    .option(
      "--retry-attempts <n>",
      `connection attempts before the upstream is reported down, -1 = never (default: ${c.retry_attempts})`,
    )
    .option("--retry-delay <seconds>", `first wait between attempts, doubled each time (default: ${c.retry_delay})`)
    .option("--max-retry-delay <seconds>", `cap on the wait between attempts (default: ${c.max_retry_delay})`)
    .option("--sse-read-timeout <seconds>", `bound on silence on an SSE stream (default: ${c.sse_read_timeout})`)
    .option(
      "--tool-timeout <seconds>",
      `bound on one tool call without progress; answered 504 past it (default: ${c.tool_timeout})`,
    )
    .option(
      "--max-tool-timeout <seconds>",
      `hard cap on a call that keeps reporting progress (default: ${c.max_tool_timeout})`,
    )
    .option(
      "--max-concurrency <n>",
      `calls running at once per upstream; more wait in a queue (default: ${c.max_concurrency})`,
    )
    .option(
      "--protocol <protocol>",
      `MCP revision to speak: auto (probe, then fall back to 2025), legacy (2025 only) or a revision such as 2026-07-28 (default: ${c.protocol})`,
    )
    .option(
      "--elicitation <policy>",
      `answer a server's request for input: defaults (accept a form's defaults when complete, else decline) or decline (default: ${c.elicitation})`,
    )
    .option(
      "--image-results <how>",
      `answer a tool result that is one image as data-url (JSON, as mcpo does) or binary (its bytes, which Open WebUI shows its model) (default: ${c.image_results})`,
    )
    .addOption(
      new Option(
        "--forward-header <name>",
        "pass this caller header on to a remote upstream, one upstream session per caller identity; repeatable, a trailing * matches a prefix (X-OpenWebUI-User-*)",
      )
        .argParser(collect)
        .default([], "none"),
    )
    .option(
      "--forward-max-sessions <n>",
      `with --forward-header: upstream sessions kept at most, one per identity (default: ${DEFAULTS.forward.max_sessions})`,
    )
    .option(
      "--forward-session-idle-timeout <seconds>",
      `with --forward-header: close an identity's upstream session unused this long (default: ${DEFAULTS.forward.session_idle_timeout})`,
    )
    .option("--max-body-size <bytes>", `largest accepted request body (default: ${DEFAULTS.maxBodySize})`)
    .addOption(
      new Option(
        "--token-dir <dir>",
        `where OAuth tokens are kept (default: \${XDG_STATE_HOME:-~/.local/state}/${DEFAULTS.oauth.token_subdir})`,
      ).env("MCPO_TOKEN_DIR"),
    )
    .option("--oauth", "OAuth 2.1 to the SSE / Streamable HTTP upstream (log in once with: mcpo auth ...)")
    .option(
      "--oauth-grant <grant>",
      `authorization_code (a human, once), client_credentials or cross_app_access (default: ${DEFAULTS.oauth.grant})`,
    )
    .option("--oauth-client-id <id>", "a pre-registered client id (default: dynamic registration)")
    .option(
      "--oauth-client-secret-file <file>",
      "the client secret, from a file (or env MCPO_OAUTH_CLIENT_SECRET; never on the command line)",
    )
    .option("--oauth-client-metadata-url <url>", "Client ID Metadata Document URL: the client id is this https URL")
    .option(
      "--oauth-token-auth-method <method>",
      "client_secret_basic, client_secret_post, none or private_key_jwt (default: what the server supports)",
    )
    .option("--oauth-private-key-file <file>", "PEM private key for private_key_jwt")
    .option("--oauth-signing-algorithm <alg>", "JWS algorithm for private_key_jwt, e.g. ES256 or RS256")
    .option("--oauth-scope <scope>", "scope to ask for (default: the server's challenge, else scopes_supported)")
    .option(
      "--oauth-redirect-port <port>",
      `loopback port mcpo auth listens on for the redirect, 0 = any (default: ${DEFAULTS.oauth.redirect_port})`,
    )
    .option("--oauth-client-name <name>", `client_name sent at registration (default: ${DEFAULTS.oauth.client_name})`)
    .option(
      "--oauth-issuer <url>",
      "issuer of the authorization server a pre-registered client belongs to (sent nowhere else)",
    )
    .option("--oauth-idp-token-endpoint <url>", "cross_app_access: the enterprise IdP's token endpoint")
    .option("--oauth-idp-client-id <id>", "cross_app_access: our client id at the IdP")
    .option("--oauth-idp-id-token-file <file>", "cross_app_access: a file holding the user's ID token")
    .helpOption("-h, --help", "show this help")
    .showSuggestionAfterError(true)
    .allowExcessArguments(true);
}
