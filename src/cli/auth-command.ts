import { PACKAGE_VERSION } from "../app/version.js";
import { DEFAULTS } from "../config/defaults.js";
import type { ServerConfig } from "../config/schema.js";
import { runLogin } from "../upstream/oauth/index.js";
import { buildConfig } from "./build-config.js";
import { createProgram, type CliOptions } from "./program.js";
import { UsageError } from "./usage-error.js";

/** Exit codes of `mcpo auth`: 0 logged in (or nothing to do), 1 the login failed, 2 a usage error. */
export const LOGIN_FAILED_EXIT_CODE = 1;

interface AuthOptions extends CliOptions {
  timeout?: string;
}

/** The `mcpo auth` command line: the proxy's own flags (to find the server and its oauth settings) plus --timeout. */
export function createAuthProgram(): ReturnType<typeof createProgram> {
  return createProgram()
    .name("mcpo auth")
    .description("Log in once to an OAuth-protected upstream and store its tokens for the proxy.")
    .usage(
      "[server] --config <file> [--token-dir dir]\n       mcpo auth [--oauth-* flags] --server-type streamable-http -- <url>",
    )
    .option("--timeout <seconds>", `how long to wait for the browser (default: ${DEFAULTS.oauth.login_timeout})`);
}

/** Picks the server to log in to and its settings; throws UsageError when that is not clear. */
export function selectServer(options: AuthOptions, args: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const multi = options.config !== undefined;
  const [name, ...extra] = multi ? args : [];
  if (multi && extra.length > 0) throw new UsageError("mcpo auth takes one server name");
  const { config } = buildConfig(multi ? options : { ...options, oauth: true }, multi ? [] : args, env);
  const withOAuth = config.servers.filter((server) => server.transport.type !== "stdio" && server.transport.oauth);
  if (!multi) return withOAuth[0]!;
  if (name === undefined) {
    if (withOAuth.length === 1) return withOAuth[0]!;
    throw new UsageError(
      `name the server to log in to: ${withOAuth.map((server) => server.name).join(", ") || "(no server has an oauth block)"}`,
    );
  }
  const server = config.servers.find((candidate) => candidate.name === name);
  if (!server) throw new UsageError(`no server "${name}" in ${options.config}`);
  if (!withOAuth.includes(server)) throw new UsageError(`server "${name}" has no "oauth" block`);
  return server;
}

/** Runs `mcpo auth`; resolves with the exit code. */
export async function runAuthCommand(
  argv: string[],
  io: { out: (line: string) => void; err: (line: string) => void },
): Promise<number> {
  const program = createAuthProgram()
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`mcpo auth: ${message.trim()} (see mcpo auth --help)\n`),
    });
  program.parse(argv, { from: "user" });
  const options = program.opts<AuthOptions>();
  const timeout = Number(options.timeout ?? DEFAULTS.oauth.login_timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError("--timeout: must be a positive number of seconds");
  const server = selectServer(options, program.args, process.env);
  try {
    const outcome = await runLogin({
      server,
      clientInfo: { name: "mcpo-ts", version: PACKAGE_VERSION },
      timeoutMs: timeout * 1000,
      printUrl: (url) => io.out(url),
      tell: (line) => io.err(`mcpo auth: ${line}`),
    });
    const who = server.name ? `"${server.name}"` : "the server";
    io.out(
      outcome.loggedIn
        ? `logged in to ${who}: ${outcome.tools} tools${outcome.scope ? ` (scope: ${outcome.scope})` : ""}; tokens stored`
        : `${who} is reachable: ${outcome.tools} tools; no login needed`,
    );
    return 0;
  } catch (error) {
    io.err(`mcpo auth: login failed: ${error instanceof Error ? error.message : String(error)}`);
    return LOGIN_FAILED_EXIT_CODE;
  }
}
