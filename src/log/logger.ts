import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/** Log levels accepted on the command line (Python `mcpo` spellings included). */
export const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warning",
  "warn",
  "error",
  "critical",
  "fatal",
  "silent",
] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const PINO_LEVEL: Record<LogLevelName, pino.LevelWithSilent> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  warn: "warn",
  error: "error",
  critical: "fatal",
  fatal: "fatal",
  silent: "silent",
};

/**
 * Structured JSON logs on stderr (stdout stays free for whoever runs us).
 * Header values, env values and API keys are never passed to the logger; the
 * redaction list is a second line of defence should one slip into an object.
 */
export function createLogger(level: LogLevelName = "info"): Logger {
  return pino(
    {
      level: PINO_LEVEL[level],
      base: { name: "mcpo" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["headers", "*.headers", "env", "*.env", "apiKey", "*.apiKey", "authorization", "*.authorization"],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
