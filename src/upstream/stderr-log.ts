import type { Logger } from "../log/logger.js";

/** Lines per second logged from one server's stderr before the rest are counted, not logged. */
const LINES_PER_SECOND = 200;

/**
 * Logs a server's stderr line by line, at most LINES_PER_SECOND a second: a
 * server that floods stderr costs a counter, not the proxy's CPU and log.
 * Suppressed lines are reported as a count when their second is over.
 */
export function stderrLogger(logger: Logger): (line: string) => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  let report: NodeJS.Timeout | undefined;
  const flush = (): void => {
    report = undefined;
    if (suppressed > 0) logger.warn({ stream: "stderr", suppressed }, "stderr flood: lines not logged");
    suppressed = 0;
  };
  return (line) => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      logged = 0;
    }
    if (logged < LINES_PER_SECOND) {
      logged++;
      logger.info({ stream: "stderr" }, line);
      return;
    }
    suppressed++;
    if (!report) {
      report = setTimeout(flush, Math.max(0, windowStart + 1000 - now));
      report.unref();
    }
  };
}
