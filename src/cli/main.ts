#!/usr/bin/env node
import { format } from "node:util";
import { CommanderError } from "commander";
import { startProxy, type ProxyHandle } from "../app/proxy.js";
import { PACKAGE_VERSION } from "../app/version.js";
import { ConfigFileError } from "../config/load-config-file.js";
import { createLogger, type Logger } from "../log/logger.js";
import { redactText } from "../errors/redact.js";
import { startTracing, stopTracing } from "../telemetry/tracing.js";
import { runAuthCommand } from "./auth-command.js";
import { buildConfig, type CliConfig } from "./build-config.js";
import { createProgram, type CliOptions } from "./program.js";
import { UsageError } from "./usage-error.js";

const USAGE_EXIT_CODE = 2;

function parseCommandLine(argv: string[]): CliConfig {
  const program = createProgram()
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`mcpo: ${message.trim()} (see mcpo --help)\n`) });
  program.parse(argv, { from: "user" });
  return buildConfig(program.opts<CliOptions>(), program.args, process.env);
}

/** `mcpo auth ...`: log in to an OAuth upstream (a subcommand only as the very first word, so `-- auth` stays a command). */
async function auth(argv: string[]): Promise<void> {
  try {
    const code = await runAuthCommand(argv, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
    // Kept-alive upstream sockets would hold the process a while: exit once stdout is written out.
    process.stdout.write("", () => process.exit(code));
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
    if (error instanceof UsageError || error instanceof ConfigFileError) {
      process.stderr.write(`mcpo auth: error: ${error.message}\n`);
      process.exit(USAGE_EXIT_CODE);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "auth") return auth(process.argv.slice(3));
  let cli: CliConfig;
  try {
    cli = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
    }
    if (error instanceof UsageError || error instanceof ConfigFileError) {
      process.stderr.write(`mcpo: error: ${error.message}\n`);
      process.exit(USAGE_EXIT_CODE);
    }
    throw error;
  }

  const logger = createLogger(cli.logLevel);
  for (const warning of cli.warnings) logger.warn({ config: cli.config.source?.path }, warning);
  // Never die of a stray rejection from a library: log it and keep serving.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  // Node prints warnings as plain text on stderr; ours is a log of JSON lines. (Removing the listeners
  // removes Node's own printer.)
  process.removeAllListeners("warning");
  process.on("warning", (warning) => logger.warn({ warning: warning.name }, warning.message));
  routeConsoleToLog(logger);
  // OpenTelemetry, when the OTEL_* environment asks for it (before any request or upstream is traced).
  await startTracing(process.env, logger, PACKAGE_VERSION);

  let proxy: ProxyHandle;
  try {
    proxy = await startProxy(cli.config, logger);
  } catch (error) {
    logger.fatal({ err: error }, "could not start");
    logger.flush();
    process.exitCode = 1;
    return;
  }
  installShutdown(proxy, logger);
}

function installShutdown(proxy: ProxyHandle, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    proxy
      .close()
      .catch((error: unknown) => logger.error({ err: error }, "error during shutdown"))
      // The spans still queued are exported (within the exporter's timeout) before the process exits.
      .then(stopTracing)
      .catch((error: unknown) => logger.warn({ err: error }, "could not export the last spans"))
      .finally(() => {
        logger.info("stopped");
        logger.flush(() => process.exit(0));
      });
  };
  // SIGHUP (the terminal closed) stops the proxy like SIGTERM: its default would end this process without the exit
  // hook, leaving every stdio server's process group running (they are detached, so the hangup never reaches them).
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`mcpo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/**
 * Libraries write to the console now and then (the MCP SDK's `[mcp-sdk] ...` notices about OAuth, for one): those
 * lines join our log as JSON on stderr, with URLs redacted like every message, instead of plain text beside it.
 */
function routeConsoleToLog(logger: Logger): void {
  const levels = { log: "info", info: "info", debug: "debug", warn: "warn", error: "error" } as const;
  for (const [method, level] of Object.entries(levels)) {
    console[method as keyof typeof levels] = (...args: unknown[]) =>
      logger[level]({ from: "console" }, redactText(format(...args)));
  }
}
