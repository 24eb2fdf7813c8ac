import pRetry, { AbortError } from "p-retry";
import type { ConnectionSettings } from "../config/schema.js";
import type { Logger } from "../log/logger.js";

/**
 * The shortest wait between two attempts, whatever `retry_delay` says. p-retry does not wait at all for a delay
 * of 0 (no timer), so a spawn that fails at once (ENOENT, reported on the next tick) would retry in microtasks
 * only: the event loop never turned again (no HTTP, no logs, SIGTERM ignored).
 */
export const MIN_RETRY_DELAY_MS = 50;

export interface RetryLoopOptions<T> {
  settings: ConnectionSettings;
  /** How the upstream is named in logs. */
  label: string;
  log: Logger;
  /** Ends the loop for good. */
  signal: AbortSignal;
  /** One attempt. Throw p-retry's AbortError to end the loop; anything else thrown is retried. */
  attempt: () => Promise<T>;
  /** Each failure, in words, with the wait before the next attempt. */
  onFailure: (reason: string, nextAttemptAt: number) => void;
  /** Called once, when `retryAttempts` attempts have failed (never with -1). */
  onDown: () => void;
  describe: (error: unknown) => string;
}

/**
 * Why an attempt failed, as p-retry sees it. p-retry 7 gives up at once on a TypeError that is not a network
 * error (and turns a thrown non-Error into one): an invalid URL, a header value with a newline or an endpoint
 * event that is not a URL would end the loop for good. Wrapped, every failure is retried.
 */
class AttemptFailed extends Error {
  override readonly name = "AttemptFailed";
}

/** The wait after the `attemptNumber`-th failure (p-retry waits by the same formula). */
export function retryWaitMs(settings: ConnectionSettings, attemptNumber: number): number {
  const first = Math.max(settings.retryDelayMs, MIN_RETRY_DELAY_MS);
  return Math.min(first * settings.backoffFactor ** (attemptNumber - 1), slowestRetryWaitMs(settings));
}

/** The capped pace: max_retry_delay, never under the floor. */
export function slowestRetryWaitMs(settings: ConnectionSettings): number {
  return Math.max(settings.maxRetryDelayMs, MIN_RETRY_DELAY_MS);
}

/**
 * Dials until it works: exponential backoff (retry_delay × backoff_factor^n,
 * capped at max_retry_delay, never under MIN_RETRY_DELAY_MS), logging every
 * attempt, failure and wait. Past `retryAttempts` the upstream is reported
 * down but the loop goes on at the capped pace: a server that comes back
 * later is picked up by itself. Only the signal or an AbortError ends it.
 */
export function connectWithRetry<T>(options: RetryLoopOptions<T>): Promise<T> {
  const { settings, label, log } = options;
  const limit = settings.retryAttempts < 0 ? "∞" : String(settings.retryAttempts);
  let reportedDown = false;
  return pRetry(
    async (attempt) => {
      log.info({ attempt: `${attempt}/${limit}` }, `connecting to ${label}`);
      try {
        return await options.attempt();
      } catch (error) {
        if (error instanceof AbortError) throw error;
        throw new AttemptFailed("connection attempt failed", { cause: error });
      }
    },
    {
      retries: Infinity,
      factor: settings.backoffFactor,
      minTimeout: retryWaitMs(settings, 1),
      maxTimeout: slowestRetryWaitMs(settings),
      randomize: false,
      signal: options.signal,
      onFailedAttempt: ({ error, attemptNumber }) => {
        const waitMs = retryWaitMs(settings, attemptNumber);
        const reason = options.describe(error instanceof AttemptFailed ? error.cause : error);
        options.onFailure(reason, Date.now() + waitMs);
        log.warn(
          { attempt: `${attemptNumber}/${limit}`, error: reason, retry_in_s: waitMs / 1000 },
          `connection attempt to ${label} failed`,
        );
        if (!reportedDown && settings.retryAttempts >= 0 && attemptNumber >= settings.retryAttempts) {
          reportedDown = true;
          options.onDown();
          log.error(
            { attempts: attemptNumber, retry_every_s: slowestRetryWaitMs(settings) / 1000 },
            `${label} is down; still retrying in the background`,
          );
        }
      },
    },
  );
}
