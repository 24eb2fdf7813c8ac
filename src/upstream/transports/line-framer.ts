/**
 * Splits a byte stream into newline-terminated lines, as MCP's stdio framing
 * wants. Each byte is scanned once and each line copied once (the SDK's
 * ReadBuffer concatenates its whole buffer on every chunk, and throws out of
 * the stream handler past 10 MiB). A line longer than the limit is dropped,
 * reported once, and reading resumes after its end.
 */
export class LineFramer {
  #chunks: Buffer[] = [];
  #size = 0;
  #discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (limit: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      if (!this.#discarding) {
        if (this.#size + piece.length > this.maxLineBytes) {
          this.#discarding = true;
          this.#chunks = [];
          this.#size = 0;
          this.onOverflow(this.maxLineBytes);
        } else if (piece.length > 0) {
          this.#chunks.push(piece);
          this.#size += piece.length;
        }
      }
      if (end === -1) return;
      if (this.#discarding) {
        this.#discarding = false;
      } else if (this.#size > 0) {
        const line = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
        this.#chunks = [];
        this.#size = 0;
        const text = line.toString("utf8");
        this.onLine(text.endsWith("\r") ? text.slice(0, -1) : text);
      }
      start = end + 1;
    }
  }
}
