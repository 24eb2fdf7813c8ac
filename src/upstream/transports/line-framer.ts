/** What is kept of a line too long to pass on: its size and its two ends (where a JSON-RPC `id` sits). */
export interface DroppedLine {
  /** Bytes of the whole line, newline excluded. */
  bytes: number;
  /** Its first bytes (up to EDGE_BYTES). */
  head: Buffer;
  /** Its last bytes (up to EDGE_BYTES). */
  tail: Buffer;
}

export interface LineFramerOptions {
  maxLineBytes: number;
  onLine: (line: string) => void;
  /**
   * `drop` (stdout): a longer line is dropped whole; `onOverflow` is told when the limit is passed and `onDropped`
   * when the line ends. `truncate` (stderr): its first `maxLineBytes` are passed on at once, ending in "…", and
   * the rest is skipped.
   */
  overflow: "drop" | "truncate";
  onOverflow?: (limit: number) => void;
  onDropped?: (line: DroppedLine) => void;
}

/** Bytes kept of each end of a dropped line. */
const EDGE_BYTES = 512;

/**
 * Splits a byte stream into newline-terminated lines, as MCP's stdio framing
 * wants. Each byte is scanned once and each line copied once (the SDK's
 * ReadBuffer concatenates its whole buffer on every chunk, and throws out of
 * the stream handler past 10 MiB). A line longer than the limit is never
 * buffered beyond the limit: memory stays bounded however long a line runs.
 */
export class LineFramer {
  #chunks: Buffer[] = [];
  #size = 0;
  /** Past the limit: the rest of the line is skipped (only its size and tail are kept). */
  #skipping = false;
  #skipped = 0;
  #head: Buffer = Buffer.alloc(0);
  #tail: Buffer = Buffer.alloc(0);

  constructor(private readonly options: LineFramerOptions) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      if (this.#skipping) this.#skip(piece);
      else if (this.#size + piece.length > this.options.maxLineBytes) this.#overflow(piece);
      else if (piece.length > 0) {
        this.#chunks.push(piece);
        this.#size += piece.length;
      }
      if (end === -1) return;
      this.#endLine();
      start = end + 1;
    }
  }

  #overflow(piece: Buffer): void {
    const { maxLineBytes, overflow } = this.options;
    // Only what is kept is copied: the first maxLineBytes for a cut line, the first EDGE_BYTES of a dropped one
    // (not the whole 64 MiB before it is thrown away).
    const keep = Math.min(overflow === "truncate" ? maxLineBytes : EDGE_BYTES, this.#size + piece.length);
    const kept = Buffer.concat([...this.#chunks, piece], keep);
    this.#skipped = this.#size;
    this.#chunks = [];
    this.#size = 0;
    this.#skipping = true;
    if (overflow === "truncate") {
      this.options.onLine(`${kept.toString("utf8")}…`);
    } else {
      this.#head = kept;
      this.options.onOverflow?.(maxLineBytes);
    }
    this.#skip(piece);
  }

  #skip(piece: Buffer): void {
    this.#skipped += piece.length;
    if (this.options.overflow === "truncate") return;
    // Copies, so no chunk of the endless line stays referenced.
    this.#tail =
      piece.length >= EDGE_BYTES
        ? Buffer.from(piece.subarray(piece.length - EDGE_BYTES))
        : Buffer.concat([this.#tail, piece]).subarray(-EDGE_BYTES);
  }

  #endLine(): void {
    if (this.#skipping) {
      this.#skipping = false;
      if (this.options.overflow === "drop") {
        this.options.onDropped?.({ bytes: this.#skipped, head: this.#head, tail: this.#tail });
        this.#head = this.#tail = Buffer.alloc(0);
      }
      this.#skipped = 0;
      return;
    }
    if (this.#size === 0) return;
    const line = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    this.#size = 0;
    this.#emit(line);
  }

  #emit(line: Buffer): void {
    const text = line.toString("utf8");
    this.options.onLine(text.endsWith("\r") ? text.slice(0, -1) : text);
  }
}
