import type { ValidationProblem } from "../errors/index.js";
import type { ToolRoute } from "./tool-route.js";

export type Checked = { args: unknown; problems: null } | { args: unknown; problems: ValidationProblem[] };

/**
 * Bodies that hold integers beyond 2^53, each with its exact twin (the same
 * value with those integers as ExactIntegers, see src/json/exact-integers.ts).
 * The body as JSON.parse gives it is what is validated (a big integer is a
 * number there, so `type: integer` judges it as one); its twin is what is
 * sent. Weak: a twin lives as long as its request's body.
 */
const exactBodies = new WeakMap<object, unknown>();

/** Records that `body` is to be sent as `exact` (rare: only bodies with integers beyond 2^53 have a twin). */
export function rememberExactBody(body: object, exact: unknown): void {
  exactBodies.set(body, exact);
}

/**
 * A call's arguments as the tool takes them. A `null` for an optional
 * property whose schema does not allow null means "not given": models and
 * form tools often send null for what they leave out, and MCP 2026-07-28
 * reads a null parameter as an omitted one (the conformance suite calls a
 * tool with `"verbose": null` for an optional boolean and expects the call).
 * Such properties are left out and the rest checked again; nothing changes
 * for arguments that are valid as sent, and the second check runs only for
 * arguments that failed the first with a null in them.
 */
export function checkArguments(route: ToolRoute, body: unknown): Checked {
  const problems = route.validate(body);
  const exact = typeof body === "object" && body !== null ? exactBodies.get(body) : undefined;
  if (!problems) return { args: exact ?? body, problems: null };
  const lenient = withoutNullOptionals(body, route.inputSchema.required);
  if (lenient === body || route.validate(lenient)) return { args: body, problems };
  return {
    args: exact === undefined ? lenient : withoutNullOptionals(exact, route.inputSchema.required),
    problems: null,
  };
}

/** `body` without its top-level nulls for properties not listed as required; `body` itself when there are none. */
function withoutNullOptionals(body: unknown, required: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const needed = new Set(Array.isArray(required) ? required : []);
  const entries = Object.entries(body);
  const kept = entries.filter(([key, value]) => value !== null || needed.has(key));
  return kept.length === entries.length ? body : Object.fromEntries(kept);
}
