import pRetry from "p-retry";
import type { ConnectionSettings } from "../config/schema.js";
import type { Logger } from "../log/logger.js";

export interface RetryLoopOptions<T> {
  settings: ConnectionSettings;
  /** How the upstream is named in logs. */
  label: string;
  log: Logger;
  /** Ends the loop for good. */
  signal: AbortSignal;
  attempt: () => Promise<T>;
  /** Each failure, in words, with the wait before the next attempt. */
  onFailure: (reason: string, nextAttemptAt: number) => void;
  /** Called once, when `retryAttempts` attempts have failed (never with -1). */
  onDown: () => void;
  describe: (error: unknown) => string;
}

/**
 * Dials until it works: exponential backoff (retry_delay × backoff_factor^n,
 * capped at max_retry_delay), logging every attempt, failure and wait. Past
 * `retryAttempts` the upstream is reported down but the loop goes on at the
 * capped pace: a server that comes back later is picked up by itself.
 */
export function connectWithRetry<T>(options: RetryLoopOptions<T>): Promise<T> {
  const { settings, label, log } = options;
  const limit = settings.retryAttempts < 0 ? "∞" : String(settings.retryAttempts);
  let reportedDown = false;
  return pRetry(
    (attempt) => {
      log.info({ attempt: `${attempt}/${limit}` }, `connecting to ${label}`);
      return options.attempt();
    },
    {
      retries: Infinity,
      factor: settings.backoffFactor,
      minTimeout: settings.retryDelayMs,
      maxTimeout: settings.maxRetryDelayMs,
      randomize: false,
      signal: options.signal,
      onFailedAttempt: ({ error, attemptNumber }) => {
        // The same formula p-retry waits by, so the log and Retry-After tell the truth.
        const waitMs = Math.min(
          settings.retryDelayMs * settings.backoffFactor ** (attemptNumber - 1),
          settings.maxRetryDelayMs,
        );
        const reason = options.describe(error);
        options.onFailure(reason, Date.now() + waitMs);
        log.warn(
          { attempt: `${attemptNumber}/${limit}`, error: reason, retry_in_s: waitMs / 1000 },
          `connection attempt to ${label} failed`,
        );
        if (!reportedDown && settings.retryAttempts >= 0 && attemptNumber >= settings.retryAttempts) {
          reportedDown = true;
          options.onDown();
          log.error(
            { attempts: attemptNumber, retry_every_s: settings.maxRetryDelayMs / 1000 },
            `${label} is down; still retrying in the background`,
          );
        }
      },
    },
  );
}
