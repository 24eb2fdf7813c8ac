/**
 * Node process warnings (MaxListenersExceededWarning and the like), counted
 * rather than printed each time. They are findings: the SDK's Streamable HTTP
 * client, for one, makes undici print one per call under load, which would
 * drown the table and which a proxy would pass on to its users' logs.
 */
export interface WarningTally {
  count: number;
  /** The first one, e.g. "MaxListenersExceededWarning: Possible EventTarget memory leak detected. ..." */
  first?: string;
}

/** Counts the warnings a child writes to stderr ("(node:1234) SomeWarning: ..."), line by line. */
export class StderrWarnings {
  readonly tally: WarningTally = { count: 0 };
  #partial = "";

  push(chunk: string): void {
    const lines = (this.#partial + chunk).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      const match = /^\(node:\d+\) (\w*Warning: .*)$/.exec(line);
      if (!match) continue;
      this.tally.count++;
      this.tally.first ??= match[1];
    }
  }
}

const own: WarningTally = { count: 0 };

/** Replaces node's printer in this process: each kind of warning is printed once, all are counted. */
export function countProcessWarnings(): void {
  process.removeAllListeners("warning");
  const seen = new Set<string>();
  process.on("warning", (warning) => {
    own.count++;
    own.first ??= `${warning.name}: ${warning.message}`;
    if (seen.has(warning.name)) return;
    seen.add(warning.name);
    process.stderr.write(`(bench) ${warning.name}: ${warning.message} (repeats are counted, not printed)\n`);
  });
}

/** Warnings of this process so far: a contender in the bench process reports the difference. */
export function processWarnings(): WarningTally {
  return { ...own };
}
