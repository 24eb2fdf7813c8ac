import { randomBytes } from "node:crypto";
import { parse as parseLossless } from "lossless-json";

/**
 * Integers beyond 2^53 kept digit for digit. JSON.parse turns
 * 12345678901234567890 into 12345678901234567000, and Node 20 has neither
 * the source text of a number in a reviver nor JSON.rawJSON to write one
 * back (both came with V8 11.4, Node 21). So such integers are parsed, only
 * when a text holds one, with lossless-json into ExactInteger objects, and
 * written through JSON.stringify as a marker string that stringifyJson (and
 * the transports, on the SDK's own JSON.stringify) turn back into the digits.
 *
 * The marker carries a random key drawn at start-up: a caller who sends the
 * marker's text as a string cannot make the proxy write it as a number.
 */
export class ExactInteger {
  constructor(readonly digits: string) {
    exactIntegersSeen = true;
  }

  /** The digits as a number (what JSON.parse would give): for validation and comparison. */
  valueOf(): number {
    return Number(this.digits);
  }

  toJSON(): string {
    return `${MARKER}${this.digits}`;
  }
}

const MARKER = `mcpo-exact-integer-${randomBytes(12).toString("hex")}:`;
const MARKED = new RegExp(`"${MARKER}(-?\\d+)"`, "g");

/** Until an ExactInteger exists, no text can hold a marker: JSON is written at JSON.stringify's speed. */
let exactIntegersSeen = false;

/** JSON.stringify, with the ExactIntegers in `value` written as their digits. */
export function stringifyJson(value: unknown): string | undefined {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? undefined : restoreExactIntegers(text);
}

/** `text` (from JSON.stringify) with every ExactInteger's marker replaced by its digits. */
export function restoreExactIntegers(text: string): string {
  if (!exactIntegersSeen || !text.includes(MARKER)) return text;
  return text.replace(MARKED, "$1");
}

/**
 * Whether `text` may hold an integer beyond 2^53: a run of 16 digits or
 * more (2^53 has 16). A regex test, far cheaper than a second parse; it may
 * say yes for a long digit run in a string, never no for a long integer.
 */
export function mayHoldLongInteger(text: string): boolean {
  return LONG_DIGITS.test(text);
}
const LONG_DIGITS = /\d{16}/;

/**
 * `text` parsed with its integers beyond 2^53 as ExactIntegers (others as
 * numbers); undefined when lossless-json refuses the text (it refuses a
 * duplicate key that JSON.parse would take), so the caller keeps its own
 * parse.
 */
export function parseExact(text: string): unknown {
  try {
    return parseLossless(text, null, exactNumber);
  } catch {
    return undefined;
  }
}

function exactNumber(text: string): unknown {
  const value = Number(text);
  if (Number.isSafeInteger(value) || !INTEGER.test(text)) return value;
  return new ExactInteger(text);
}
const INTEGER = /^-?\d+$/;

/** Whether `value` holds an ExactInteger anywhere (an iterative walk: values may be deep). */
export function holdsExactInteger(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node instanceof ExactInteger) return true;
    if (typeof node === "object" && node !== null) {
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        if (typeof child === "object" && child !== null) stack.push(child);
      }
    }
  }
  return false;
}

/**
 * Whether `exact` says the same as `rounded` once its ExactIntegers are
 * rounded as JSON.parse rounds them: `rounded` is the JSON.parse reading of
 * the same text. An iterative walk: values may be deep.
 */
export function equalsRounded(exact: unknown, rounded: unknown): boolean {
  const stack: [unknown, unknown][] = [[exact, rounded]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    if (a instanceof ExactInteger) {
      if (a.valueOf() !== b) return false;
    } else if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
      if (a !== b) return false;
    } else {
      if (Array.isArray(a) !== Array.isArray(b)) return false;
      const keys = Object.keys(a);
      if (keys.length !== Object.keys(b).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(b, key)) return false;
        stack.push([(a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]]);
      }
    }
  }
  return true;
}
