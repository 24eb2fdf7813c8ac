import { pino, type Logger } from "pino";
import { redactText } from "../errors/redact.js";

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

/** Nested values walked for URLs to redact, past which they are left as they are (logged errors are shallow). */
const REDACT_DEPTH = 6;

/** Strings anywhere in a (serialized) value with their URLs redacted (see src/errors/redact.ts). */
function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (depth >= REDACT_DEPTH || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, depth + 1)]));
}

/** Errors as pino serializes them (type, message, stack, causes), with URLs redacted in every string. */
function redactedError(value: unknown): unknown {
  return redactDeep(value instanceof Error ? pino.stdSerializers.err(value) : value);
}

/**
 * Structured JSON logs on stderr (stdout stays free for whoever runs us).
 * Header values, env values and API keys are never passed to the logger; the
 * redaction list is a second line of defence should one slip into an object.
 * Messages quote URLs (fetch's and the SDK's errors do): every message, every top-level string field and every
 * logged error has its URLs' credentials and query values redacted.
 */
export function createLogger(
  level: LogLevelName = "info",
  /** Where lines go: stderr, unless a test reads them. */
  destination: pino.DestinationStream = pino.destination({ dest: 2, sync: false }),
): Logger {
  return pino(
    {
      level: PINO_LEVEL[level],
      base: { name: "mcpo" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // A copy only when a field changes: the caller's object is theirs.
        log: (object) => {
          let redacted: Record<string, unknown> | undefined;
          for (const [key, value] of Object.entries(object)) {
            if (typeof value !== "string") continue;
            const clean = redactText(value);
            if (clean !== value) (redacted ??= { ...object })[key] = clean;
          }
          return redacted ?? object;
        },
      },
      serializers: { err: redactedError, error: redactedError, reason: redactedError, cause: redactedError },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === "string" ? redactText(arg) : arg)) as typeof args;
          return method.apply(this, redacted);
        },
      },
      redact: {
        paths: [
          "headers",
          "*.headers",
          "env",
          "*.env",
          "apiKey",
          "*.apiKey",
          "authorization",
          "*.authorization",
          // The JWT secret shared with Open WebUI (InboundAuthConfig), should a config object ever be logged.
          "secret",
          "*.secret",
          "jwt_secret",
          "*.jwt_secret",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
