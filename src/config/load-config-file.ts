import { accessSync, constants, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { configFileSchema, KNOWN_KEYS, serverEntrySchema, type ServerEntry } from "./file-schema.js";
import {
  API_KEY_CONFLICT,
  forwardProblems,
  OAUTH_CONFLICT,
  forwardsAuthorization,
  resolveForward,
  STDIO_CONFLICT,
} from "./forward.js";
import { interpolateEnv } from "./interpolate.js";
import { resolveOAuth } from "./oauth.js";
import { moveUrlCredentials } from "./safe-values.js";
import {
  protocolConflict,
  resolveConnectionSettings,
  type connectionSettingsInputSchema,
  type LoadedServers,
  type ServerConfig,
  type TransportConfig,
} from "./schema.js";

/** A config file that cannot be used, with every problem found, each prefixed by its path. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid config file ${file}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

export interface ConfigFileOptions {
  /** Values for `${VAR}`: the environment plus --env and --env-path. */
  env: Readonly<Record<string, string | undefined>>;
  /** Connection settings from command-line flags: above the file's defaults, below a server's own. */
  cliSettings: z.output<typeof connectionSettingsInputSchema>;
  /** Whether the global --api-key guards every server (forwarding Authorization then is refused). */
  globalApiKey?: boolean;
  /** Where OAuth tokens live (--token-dir, MCPO_TOKEN_DIR or the default). */
  tokenDir?: string;
  /** Added to `mcpo auth <name> --config <file>` in messages (e.g. ` --token-dir /x`). */
  loginSuffix?: string;
}

/** Server names become URL segments. */
const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Root routes a server name would shadow. */
const RESERVED_NAMES = new Set(["docs", "health", "openapi.json"]); // compared ignoring case, as express routes

export function loadConfigFile(path: string, options: ConfigFileOptions): LoadedServers {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigFileError(path, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  return parseConfigText(text, path, options);
}

/**
 * Parses a Claude Desktop / Python mcpo config file, once, at the edge:
 * `${VAR}` interpolation, then the zod schema, then resolution into the typed
 * ServerConfig the core runs on. Every problem is collected before throwing.
 */
export function parseConfigText(text: string, file: string, options: ConfigFileOptions): LoadedServers {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, [`not valid JSON: ${withoutQuotedText((error as Error).message)}`]);
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const interpolated = interpolateEnv(raw, options.env);
  for (const problem of interpolated.problems) {
    // An unresolved variable in a disabled server is no reason to refuse the file.
    const [top, name] = problem.path;
    const entry =
      top === "mcpServers"
        ? (raw as { mcpServers: Record<string, { disabled?: unknown }> }).mcpServers[String(name)]
        : undefined;
    (entry?.disabled === true ? warnings : problems).push(`${formatPath(problem.path)}: ${problem.message}`);
  }

  const parsed = configFileSchema.safeParse(interpolated.value);
  if (!parsed.success) throw new ConfigFileError(file, [...problems, ...issuesOf(parsed.error, [])]);
  const top = parsed.data;
  warnUnknownKeys(interpolated.value, KNOWN_KEYS.top, [], warnings);
  warnUnknownKeys(
    top.connection_settings && (interpolated.value as Record<string, unknown>).connection_settings,
    KNOWN_KEYS.settings,
    ["connection_settings"],
    warnings,
  );

  const servers: ServerConfig[] = [];
  for (const [name, value] of Object.entries(top.mcpServers)) {
    const path = ["mcpServers", name];
    if (!SERVER_NAME.test(name)) {
      problems.push(
        `${formatPath(path)}: a server name must be 1-64 letters, digits, "_" or "-" (it is a URL segment)`,
      );
    } else if (RESERVED_NAMES.has(name.toLowerCase())) {
      problems.push(`${formatPath(path)}: "${name}" is reserved for the proxy's own routes`);
    }
    if (isObject(value) && value.type === undefined && value.command === undefined && value.url === undefined) {
      problems.push(
        `${formatPath(path)}: needs "command" (a stdio server) or "url" (an SSE or Streamable HTTP server)`,
      );
      continue;
    }
    const entry = serverEntrySchema.safeParse(value);
    if (!entry.success) {
      if (isObject(value) && value.disabled === true) {
        // A disabled server is checked once it is enabled (its ${VAR}s may not be set yet): listed as disabled.
        warnings.push(...issuesOf(entry.error, path).map((issue) => `${issue} (the server is disabled)`));
        servers.push(disabledPlaceholder(name));
        continue;
      }
      problems.push(...issuesOf(entry.error, path));
      continue;
    }
    warnUnknownKeys(value, entry.data.type === "stdio" ? KNOWN_KEYS.stdio : KNOWN_KEYS.remote, path, warnings);
    warnUnknownKeys(
      (value as Record<string, unknown>).connection_settings,
      KNOWN_KEYS.settings,
      [...path, "connection_settings"],
      warnings,
    );
    if (entry.data.type === "stdio" && isObject(value) && value.oauth !== undefined) {
      problems.push(
        `${formatPath([...path, "oauth"])}: OAuth is for sse and streamable-http servers; a stdio server has no HTTP to authorize`,
      );
    }
    const transport = toTransport(entry.data, dirname(resolve(file)), path, problems, {
      tokenDir: options.tokenDir ?? "",
      loginCommand: `mcpo auth ${name} --config ${file}${options.loginSuffix ?? ""}`,
    });
    const settings = resolveConnectionSettings(
      top.connection_settings ?? {},
      options.cliSettings,
      entry.data.connection_settings ?? {},
    );
    const conflict = protocolConflict(transport, settings);
    if (conflict) problems.push(`${formatPath([...path, "connection_settings", "protocol"])}: ${conflict}`);
    const forward = toForward(entry.data, options.globalApiKey === true, [...path, "forward"], problems);
    servers.push({
      name,
      transport,
      settings,
      disabled: entry.data.disabled,
      tools: toolFilter(entry.data),
      ...(entry.data.api_key === undefined ? {} : { apiKey: entry.data.api_key }),
      ...(entry.data.allow === undefined ? {} : { allow: entry.data.allow }),
      ...(forward ? { forward } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigFileError(file, problems);
  if (!top.auth) return { servers, warnings };
  // A relative secret file is found beside the config file, like the TLS files.
  const { jwt_secret_file: secretFile } = top.auth;
  const auth =
    secretFile === undefined ? top.auth : { ...top.auth, jwt_secret_file: resolve(dirname(resolve(file)), secretFile) };
  return { servers, warnings, auth };
}

function toTransport(
  entry: ServerEntry,
  baseDir: string,
  path: string[],
  problems: string[],
  login: { tokenDir: string; loginCommand: string },
): TransportConfig {
  if (entry.type === "stdio") {
    return {
      type: "stdio",
      command: entry.command,
      args: entry.args,
      env: entry.env,
      ...(entry.cwd === undefined ? {} : { cwd: resolve(baseDir, entry.cwd) }),
    };
  }
  // auth_token is a shorthand: an Authorization header given explicitly (in any case) wins.
  const explicitAuth = Object.keys(entry.headers).some((key) => key.toLowerCase() === "authorization");
  const given =
    entry.auth_token && !explicitAuth
      ? { Authorization: `Bearer ${entry.auth_token}`, ...entry.headers }
      : entry.headers;
  const moved = moveUrlCredentials(entry.url, given);
  if ("problem" in moved) problems.push(`${formatPath([...path, "url"])}: ${moved.problem}`);
  const { url, headers } = "problem" in moved ? { url: entry.url, headers: given } : moved;
  const file = (key: "ssl_ca_path" | "ssl_cert_path" | "ssl_key_path"): string | undefined => {
    const value = entry[key];
    if (value === undefined) return undefined;
    const absolute = resolve(baseDir, value);
    try {
      accessSync(absolute, constants.R_OK);
    } catch (error) {
      problems.push(
        `${formatPath([...path, key])}: cannot read ${absolute} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    return absolute;
  };
  const caPath = file("ssl_ca_path");
  const certPath = file("ssl_cert_path");
  const keyPath = file("ssl_key_path");
  if (Boolean(certPath) !== Boolean(keyPath)) {
    problems.push(`${formatPath(path)}: ssl_cert_path and ssl_key_path go together`);
  }
  const customTls = !entry.verify_ssl || caPath || certPath || keyPath;
  const oauthProblems: string[] = [];
  const oauth = entry.oauth && resolveOAuth(entry.oauth, { baseDir, ...login }, oauthProblems);
  problems.push(...oauthProblems.map((problem) => `${formatPath([...path, "oauth"])}.${problem}`));
  return {
    type: entry.type,
    url,
    headers,
    ...(oauth ? { oauth } : {}),
    ...(customTls
      ? {
          tls: {
            verify: entry.verify_ssl,
            ...(caPath ? { caPath } : {}),
            ...(certPath ? { certPath } : {}),
            ...(keyPath ? { keyPath } : {}),
          },
        }
      : {}),
  };
}

/** The server's `forward` block, resolved; refused on stdio and beside a static API key when it passes Authorization. */
function toForward(
  entry: ServerEntry,
  globalApiKey: boolean,
  path: string[],
  problems: string[],
): ServerConfig["forward"] {
  if (entry.forward === undefined) return undefined;
  if (entry.type === "stdio") {
    problems.push(`${formatPath(path)}: ${STDIO_CONFLICT}`);
    return undefined;
  }
  const found = forwardProblems(entry.forward);
  if (found.length > 0) {
    problems.push(...found.map((problem) => `${formatPath(path)}.${problem}`.replace(".needs", ": needs")));
    return undefined;
  }
  const forward = resolveForward(entry.forward);
  if (forwardsAuthorization(forward) && (globalApiKey || entry.api_key !== undefined)) {
    problems.push(`${formatPath(path)}: ${API_KEY_CONFLICT}`);
  }
  if (forwardsAuthorization(forward) && entry.oauth !== undefined) {
    problems.push(`${formatPath(path)}: ${OAUTH_CONFLICT}`);
  }
  return forward;
}

function toolFilter(entry: ServerEntry): ServerConfig["tools"] {
  const enabled = entry.enabledTools ?? entry.enabled_tools;
  return {
    ...(enabled === undefined ? {} : { enabled }),
    disabled: [...(entry.disabledTools ?? []), ...(entry.disabled_tools ?? [])],
  };
}

/** A disabled server whose entry is not valid yet: never started, only listed as disabled. */
function disabledPlaceholder(name: string): ServerConfig {
  return {
    name,
    transport: { type: "stdio", command: "", args: [], env: {} },
    settings: resolveConnectionSettings(),
    disabled: true,
    tools: { disabled: [] },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function warnUnknownKeys(
  value: unknown,
  known: readonly string[],
  path: (string | number)[],
  warnings: string[],
): void {
  if (!isObject(value)) return;
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) warnings.push(`${formatPath([...path, key])}: unknown key, ignored`);
  }
}

function issuesOf(error: z.ZodError, prefix: (string | number)[]): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment))];
    return `${path.length > 0 ? formatPath(path) : "(file)"}: ${issue.message}`;
  });
}

/** ["mcpServers", "github", "args", 0] → "mcpServers.github.args[0]". */
export function formatPath(path: readonly (string | number)[]): string {
  return path
    .map((segment, index) => (typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join("");
}

/**
 * JSON.parse's message without the piece of the file it may quote (`Unexpected token 's', "{"key": s"... is not
 * valid JSON`): a config file holds keys and tokens. The position, when given, says where to look.
 */
function withoutQuotedText(message: string): string {
  return message.replace(
    /, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s,
    " (the text is not shown: it may hold secrets)",
  );
}
