import { setFlagsFromString } from "node:v8";
import type { RegExpEngine, RegExpLike } from "ajv/dist/types/index.js";

/**
 * V8 ships a regexp engine without backtracking (linear in the input). With
 * these flags, set once when this module loads, a regexp that engine can run
 * starts on the usual backtracking engine (fast for ordinary input) and moves
 * to the linear one after 50,000 backtracks; the `l` flag asks whether a
 * pattern is one it can run. Without them `^(a+)+$` against 31 characters
 * blocks the event loop for seconds; with them, well under a millisecond.
 */
setFlagsFromString("--enable-experimental-regexp-engine");
setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
/** Asks for the linear engine (known to V8 with the flag above only, hence not written in a literal). */
const LINEAR_FLAG = "l";
const LINEAR_ENGINE = canUseLinearEngine();

/** Syntax whose meaning needs the `u` flag, which V8's linear engine does not take. */
const UNICODE_ONLY = /\\[pP]\{|\\u\{|[\uD800-\uDFFF]/;
/** A character outside the BMP: one code point with `u`, two code units without. */
const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;
const ASTRAL_ALL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
/** What an astral character stands for when tested without `u`: one character that no pattern here names. */
const ASTRAL_STAND_IN = "\uFFFF";

/** ajv keys compiled patterns by toString(): an object's default one would make every pattern the same. */
type KeyedRegExp = RegExpLike & { toString(): string };

/** Hears about a pattern that is not checked here (the upstream still checks it). */
export type PatternWarning = (message: string) => void;

/**
 * ajv's regexp engine (`code.regExp`) for `pattern`, `patternProperties`
 * and `propertyNames`: patterns whose cost cannot explode.
 *
 * JSON Schema patterns mean what they mean with the `u` flag. The linear
 * engine takes no `u`, so a pattern runs without it when that changes
 * nothing: it uses no `\p{...}`, no `\u{...}` and no astral character, and
 * an astral character in the input is tested as one stand-in character, as
 * `u` would count it. A pattern the linear engine cannot run (a
 * backreference, a lookaround, `\p{...}`, a counted repeat over 16) is not
 * checked here at all: `warn` hears it, and the upstream still checks it.
 * Nothing is ever run that could backtrack without bound.
 */
export function patternEngine(warn: () => PatternWarning): RegExpEngine {
  const engine = (pattern: string, u: string): KeyedRegExp => {
    new RegExp(pattern, u); // an invalid pattern makes the schema invalid, as with ajv's own engine
    const safe = LINEAR_ENGINE && !UNICODE_ONLY.test(pattern) && runsInLinearTime(pattern);
    if (!safe) {
      warn()(`pattern ${JSON.stringify(pattern)} cannot be checked in bounded time here; the upstream checks it`);
      return { test: () => true, toString: () => `unchecked:${pattern}` };
    }
    const regexp = new RegExp(pattern);
    return {
      test: (text) => regexp.test(ASTRAL.test(text) ? text.replace(ASTRAL_ALL, ASTRAL_STAND_IN) : text),
      toString: () => `bounded:${pattern}`,
    };
  };
  // ajv writes this name into standalone code only, which we never generate.
  engine.code = "mcpoBoundedRegExp";
  return engine;
}

function runsInLinearTime(pattern: string): boolean {
  try {
    new RegExp(pattern, LINEAR_FLAG);
    return true;
  } catch {
    return false;
  }
}

/** Whether this V8 took the flags (Node 20 to 24 do); without them no pattern is run here. */
function canUseLinearEngine(): boolean {
  try {
    new RegExp("a", LINEAR_FLAG);
    return true;
  } catch {
    return false;
  }
}
