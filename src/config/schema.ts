import { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import { LOG_LEVELS } from "../log/logger.js";
import { checkWith, headerProblems } from "./safe-values.js";
import type { AuthFileInput } from "./auth-schema.js";

/** The canonical spelling of a transport type, or undefined when it is not one we know. */
export function normalizeServerType(value: string): "stdio" | "sse" | "streamable-http" | undefined {
  const spelled = value.trim().toLowerCase();
  if (spelled === "stdio" || spelled === "sse") return spelled;
  if (["streamable-http", "streamable_http", "streamablehttp", "http"].includes(spelled)) return "streamable-http";
  return undefined;
}

/** `streamable-http` is also spelled `streamable_http` and `streamablehttp`, as in Python mcpo. */
export const serverTypeSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(
    z
      .enum(["stdio", "sse", "streamable-http", "streamable_http", "streamablehttp", "http"], {
        error: (issue) => `unknown server type ${JSON.stringify(issue.input)}: use stdio, sse or streamable-http`,
      })
      .transform((value) => (value === "stdio" || value === "sse" ? value : "streamable-http")),
  );
export type ServerType = z.output<typeof serverTypeSchema>;

const seconds = (min: number) => z.coerce.number().min(min);

/** `auto`, `legacy`, or a pinned revision of the 2026 era or later (a date, as MCP names its revisions). */
export type ProtocolSetting = "auto" | "legacy" | { readonly pin: string };

/** The first revision without `initialize`: pins name it or a later one. */
export const FIRST_MODERN_REVISION = "2026-07-28";

export const protocolSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => value === "auto" || value === "legacy" || /^\d{4}-\d{2}-\d{2}$/.test(value), {
    error: (issue) =>
      `unknown protocol ${JSON.stringify(issue.input)}: use auto, legacy or a revision such as ${FIRST_MODERN_REVISION}`,
  })
  .refine((value) => value === "auto" || value === "legacy" || value >= FIRST_MODERN_REVISION, {
    error: `a pinned revision must be ${FIRST_MODERN_REVISION} or later (use legacy for the 2025 revisions)`,
  });

export const ELICITATION_POLICIES = ["defaults", "decline"] as const;
export type ElicitationPolicy = (typeof ELICITATION_POLICIES)[number];

/** How a tool result that is one image is answered (see DEFAULTS.connection.image_results). */
export const IMAGE_RESULTS = ["data-url", "binary"] as const;
export type ImageResults = (typeof IMAGE_RESULTS)[number];

/** `connection_settings` as written by users (seconds, snake_case), every key optional. */
export const connectionSettingsInputSchema = z
  .object({
    retry_attempts: z.coerce.number().int().min(-1),
    retry_delay: seconds(0),
    max_retry_delay: seconds(0),
    backoff_factor: z.coerce.number().min(1),
    connection_timeout: seconds(0.001),
    sse_read_timeout: seconds(0.001),
    tool_timeout: seconds(0.001),
    max_tool_timeout: seconds(0.001),
    max_concurrency: z.coerce.number().int().min(1),
    max_queue: z.coerce.number().int().min(0),
    health_check_interval: seconds(0),
    protocol: protocolSchema,
    elicitation: z.enum(ELICITATION_POLICIES, {
      error: (issue) =>
        `unknown elicitation policy ${JSON.stringify(issue.input)}: use ${ELICITATION_POLICIES.join(" or ")}`,
    }),
    image_results: z.enum(IMAGE_RESULTS, {
      error: (issue) => `unknown image_results ${JSON.stringify(issue.input)}: use ${IMAGE_RESULTS.join(" or ")}`,
    }),
  })
  .partial();
export type ConnectionSettingsInput = z.input<typeof connectionSettingsInputSchema>;

/** Resolved connection settings the core works with (milliseconds). */
export interface ConnectionSettings {
  /** Attempts before the server is reported down; -1 = never reported down. */
  readonly retryAttempts: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly backoffFactor: number;
  readonly connectionTimeoutMs: number;
  readonly sseReadTimeoutMs: number;
  readonly toolTimeoutMs: number;
  /** Hard cap on a call that keeps reporting progress (never below toolTimeoutMs). */
  readonly maxToolTimeoutMs: number;
  readonly maxConcurrency: number;
  readonly maxQueue: number;
  readonly healthCheckIntervalMs: number;
  /** Which MCP revision to speak (see DEFAULTS.connection.protocol). */
  readonly protocol: ProtocolSetting;
  /** How requests for user input are answered (see DEFAULTS.connection.elicitation). */
  readonly elicitation: ElicitationPolicy;
  /** How a tool result that is one image is answered (see DEFAULTS.connection.image_results). */
  readonly imageResults: ImageResults;
}

/** Merges user settings over the defaults and converts them to milliseconds. */
export function resolveConnectionSettings(
  ...layers: z.output<typeof connectionSettingsInputSchema>[]
): ConnectionSettings {
  const merged = Object.assign({}, DEFAULTS.connection, ...layers.map(dropUndefined)) as {
    [K in keyof typeof DEFAULTS.connection]: K extends "protocol"
      ? string
      : K extends "elicitation"
        ? ElicitationPolicy
        : K extends "image_results"
          ? ImageResults
          : number;
  };
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    retryAttempts: merged.retry_attempts,
    retryDelayMs: ms(merged.retry_delay),
    maxRetryDelayMs: Math.max(ms(merged.max_retry_delay), ms(merged.retry_delay)),
    backoffFactor: merged.backoff_factor,
    connectionTimeoutMs: ms(merged.connection_timeout),
    sseReadTimeoutMs: ms(merged.sse_read_timeout),
    toolTimeoutMs: ms(merged.tool_timeout),
    maxToolTimeoutMs: Math.max(ms(merged.max_tool_timeout), ms(merged.tool_timeout)),
    maxConcurrency: merged.max_concurrency,
    maxQueue: merged.max_queue,
    healthCheckIntervalMs: ms(merged.health_check_interval),
    protocol: merged.protocol === "auto" || merged.protocol === "legacy" ? merged.protocol : { pin: merged.protocol },
    elicitation: merged.elicitation,
    imageResults: merged.image_results,
  };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const headersSchema = z
  .record(z.string(), z.string(), { error: "must be a JSON object of header names to string values" })
  .superRefine(checkWith(headerProblems));

export const logLevelSchema = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }));

/** How one upstream is reached. */
export type TransportConfig =
  | {
      readonly type: "stdio";
      readonly command: string;
      readonly args: readonly string[];
      /** Values set for this server only (from --env, --env-path or the config file). */
      readonly env: Readonly<Record<string, string>>;
      readonly cwd?: string;
    }
  | {
      readonly type: "sse" | "streamable-http";
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      /** TLS options for the upstream connection; absent means the platform defaults. */
      readonly tls?: UpstreamTls;
      /** OAuth 2.1 to this upstream (the `oauth` block, or the --oauth flags); absent means none. */
      readonly oauth?: OAuthSettings;
    };

export const OAUTH_GRANTS = ["authorization_code", "client_credentials", "cross_app_access"] as const;
export type OAuthGrant = (typeof OAUTH_GRANTS)[number];
export const TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];

/** Resolved OAuth settings of one remote upstream (secrets already read from their files). */
export interface OAuthSettings {
  /** How tokens are obtained: a human once (`mcpo auth`), client credentials, or cross-app access. */
  readonly grant: OAuthGrant;
  /** A pre-registered client; absent (and no clientMetadataUrl): dynamic registration. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Client ID Metadata Document URL: the client id is this URL (no registration). */
  readonly clientMetadataUrl?: string;
  /** Absent: the SDK picks from what the authorization server supports. */
  readonly tokenEndpointAuthMethod?: TokenAuthMethod;
  /** PEM text, for private_key_jwt. */
  readonly privateKey?: string;
  /** JWS algorithm of the client assertion (default ES256... as the SDK's). */
  readonly signingAlgorithm?: string;
  /** Scope to ask for; absent: from the challenge, else the server's scopes_supported, else none. */
  readonly scope?: string;
  /** Loopback port `mcpo auth` listens on for the redirect (0 = any free port). */
  readonly redirectPort: number;
  readonly clientName: string;
  /**
   * The issuer of the authorization server a pre-registered client belongs to: its id, secret or assertion are sent
   * to no other (the SDK's expectedIssuer); absent, to the one the MCP server names.
   */
  readonly issuer?: string;
  /** Where tokens live (one file per server and resource). */
  readonly tokenDir: string;
  /** The command a human runs to log in, as messages name it: `mcpo auth github --config servers.json`. */
  readonly loginCommand: string;
  /** Cross-app access: the enterprise IdP that turns an ID token into an authorization grant. */
  readonly idp?: IdpSettings;
}

export interface IdpSettings {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** A file holding the user's ID token, re-read at every exchange (something else keeps it fresh). */
  readonly idTokenFile: string;
}

export interface UpstreamTls {
  /** false accepts any certificate (self-signed test servers); true by default. */
  readonly verify: boolean;
  /** Absolute paths (relative ones are resolved against the config file's folder). */
  readonly caPath?: string;
  readonly certPath?: string;
  readonly keyPath?: string;
}

/** Which of a server's tools are served. */
export interface ToolFilter {
  /** Allow-list: only these are served, when given. */
  readonly enabled?: readonly string[];
  readonly disabled: readonly string[];
}

/** Legacy SSE is a 2025 transport: a server reached over it cannot be pinned to a 2026 revision. */
export function protocolConflict(transport: TransportConfig, settings: ConnectionSettings): string | undefined {
  if (transport.type !== "sse" || typeof settings.protocol !== "object") return undefined;
  return `protocol ${settings.protocol.pin} cannot be spoken over legacy SSE (a 2025 transport): use streamable-http, or protocol auto or legacy`;
}

export interface ServerConfig {
  /** URL-safe name; empty in single-server mode, where tools mount at the root. */
  readonly name: string;
  readonly transport: TransportConfig;
  readonly settings: ConnectionSettings;
  /** A disabled server is neither started nor mounted; health lists it as disabled. */
  readonly disabled: boolean;
  readonly tools: ToolFilter;
  /** Key for this server's routes only (instead of the global --api-key). */
  readonly apiKey?: string;
  /** Who may call this server's tools (config file `allow`); absent: any authenticated caller. */
  readonly allow?: AllowList;
  /** Per-caller identity (remote servers only): absent, every caller shares one upstream session. */
  readonly forward?: ForwardConfig;
}

/**
 * A server's allow-list of verified identities (see src/auth/allow-list.ts): a caller passes when any list names
 * them. `users` match the subject or the email, `roles` the `role`/`roles` claim, `groups` the `groups` claim.
 */
export interface AllowList {
  readonly users: readonly string[];
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

/** JWT algorithms a JWKS may sign with: asymmetric only (an HMAC key on this path is key confusion). */
export const JWKS_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

/** Inbound identity beyond the static key: JWTs verified with jose (src/auth/). */
export interface InboundAuthConfig {
  /** Open WebUI's signed user header (HS256 with a shared secret); absent: the header is not read. */
  readonly openWebUi?: {
    readonly secret: string;
    /** Header name, as written (DEFAULTS.auth.jwt_header); matched ignoring case. */
    readonly header: string;
  };
  /** OIDC bearer tokens checked against the issuer's JWKS; absent: bearer values are only API keys. */
  readonly oidc?: {
    readonly issuer: string;
    /** Accepted `aud` values (one must match). */
    readonly audience: readonly string[];
    /** The JWKS URL; absent: `jwks_uri` of `{issuer}/.well-known/openid-configuration`, fetched on first use. */
    readonly jwksUrl?: string;
    readonly algorithms: readonly (typeof JWKS_ALGORITHMS)[number][];
  };
  /** Leeway on `exp` and `nbf`, in seconds. */
  readonly clockSkewSeconds: number;
  /** Bound on one fetch of the JWKS or the discovery document. */
  readonly fetchTimeoutMs: number;
}

/**
 * Per-caller identity: which caller headers reach the upstream, and the bounds on the upstream sessions kept
 * per identity (see src/upstream/forwarded-sessions.ts and DEFAULTS.forward).
 */
export interface ForwardConfig {
  /** Caller header names to copy, lower case; one ending in `*` matches any name with that prefix. */
  readonly headers: readonly string[];
  /** Header name → template of literal text and `{header.Name}` references to caller headers. */
  readonly templates: Readonly<Record<string, string>>;
  /** Upstream sessions kept at most, one per identity. */
  readonly maxSessions: number;
  /** An identity's session unused this long is closed. */
  readonly sessionIdleTimeoutMs: number;
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly apiKey?: string;
  /** Protect docs and the OpenAPI document too, not just tool routes. */
  readonly strictAuth: boolean;
  /** JWT verification (--jwt-secret-file, --oidc-issuer..., or the config file's `auth`); absent: keys only. */
  readonly auth?: InboundAuthConfig;
  readonly corsAllowOrigins: readonly string[];
  /** Prefix under which a reverse proxy serves us, e.g. "/mcpo"; "" when none. */
  readonly rootPath: string;
  readonly sslCertfile?: string;
  readonly sslKeyfile?: string;
  readonly maxBodyBytes: number;
  /** Host names served (any port); undefined: the loopback names on loopback, else any (see host-check.ts). */
  readonly allowedHosts?: readonly string[];
  /** Cap on open client connections (see DEFAULTS.maxConnections). */
  readonly maxConnections: number;
  /** The MCP endpoints (src/mcp-face/): the bounds of their 2025 sessions, or false when served REST only (--no-mcp). */
  readonly mcp: McpFaceConfig | false;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Prometheus metrics (`GET /metrics`), or false when off (--no-metrics). */
  readonly metrics: MetricsConfig | false;
  /** One `request` log line per answer at info level (on with --access-log). */
  readonly accessLog: boolean;
}

export interface MetricsConfig {
  /** Serve `/metrics` on this port (same host) instead of the main one; undefined: on the main port. */
  readonly port?: number;
}

export interface McpFaceConfig {
  /** Sessions (2025 Streamable HTTP and legacy SSE together) open at once per MCP endpoint. */
  readonly maxSessions: number;
  /** A session unused this long is closed. */
  readonly sessionIdleMs: number;
}

export interface DocInfo {
  readonly title?: string;
  readonly description?: string;
  readonly version?: string;
}

/** Where the servers come from in config mode, re-read on hot reload. */
export interface ConfigSource {
  readonly path: string;
  readonly hotReload: boolean;
  /** Reads and validates the file again; throws ConfigFileError listing every problem. */
  load(): LoadedServers;
}

export interface LoadedServers {
  readonly servers: readonly ServerConfig[];
  /** The file's top-level `auth` block as written (merged with the flags once, at start). */
  readonly auth?: AuthFileInput;
  /** Unknown keys and other things we ignored, each with its path. */
  readonly warnings: readonly string[];
}

export interface AppConfig {
  /** "single": one server, tools at the root (`mcpo -- cmd`); "multi": many, each under `{pathPrefix}{name}/`. */
  readonly mode: "single" | "multi";
  /** Mount prefix of servers in multi mode: "/" by default, e.g. "/tools/". */
  readonly pathPrefix: string;
  readonly http: HttpConfig;
  readonly doc: DocInfo;
  readonly servers: readonly ServerConfig[];
  /** Set in multi mode when servers come from a file. */
  readonly source?: ConfigSource;
  /** Environment every stdio server inherits, before its own values (Python mcpo passes the whole environment on). */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly healthCheckTimeoutMs: number;
  /** --shutdown-grace in ms (DEFAULTS.shutdownGrace): the drain bound on SIGTERM, and for a server a reload removes. */
  readonly shutdownGraceMs: number;
  /** --shutdown-delay in ms (DEFAULTS.shutdownDelay): how long a stop keeps serving refusals before it may close. */
  readonly shutdownDelayMs: number;
}
