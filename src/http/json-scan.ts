/** What one pass over a JSON text found (see scanJson). */
export interface JsonScan {
  /** Arrays and objects nest deeper than the bound. */
  tooDeep: boolean;
  /** A number has an exponent or 16 digits or more: it may be infinite or an integer beyond 2^53. */
  bigNumberSyntax: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/**
 * One pass over the characters of a JSON text, before it is parsed: how
 * deep it nests (a counter, so any depth is safe to measure, unlike a
 * recursive walk) and whether a number in it could be infinite or too
 * large to be exact. Strings are skipped. The text need not be valid JSON:
 * JSON.parse judges that afterwards. Strings, most of a large body, are
 * skipped with indexOf (native): a 1 MiB string costs well under JSON.parse.
 */
export function scanJson(text: string, maxDepth: number): JsonScan {
  let depth = 0;
  let digits = 0;
  let bigNumberSyntax = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= ZERO && code <= NINE) {
      if (++digits >= 16) bigNumberSyntax = true;
      continue;
    }
    // Outside strings a letter e follows a digit only as an exponent ("true" and "false" end in e after a letter).
    if ((code === LOWER_E || code === UPPER_E) && digits > 0) bigNumberSyntax = true;
    digits = 0;
    if (code === QUOTE) {
      i = closingQuote(text, i);
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return { tooDeep: true, bigNumberSyntax };
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return { tooDeep: false, bigNumberSyntax };
}

/** The index of the quote that closes the string opened at `open` (one not escaped), or the text's end. */
function closingQuote(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return text.length;
}
