import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { TEMPLATE_REFERENCE, wildcardMayMatch } from "../config/forward.js";
import type { ForwardConfig } from "../config/schema.js";

/** Request headers as node:http gives them: names in lower case. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * One caller's identity as an upstream sees it: the headers forwarded to it, and the key that names its upstream
 * session (SHA-256 of those headers, so two callers share a session only when every forwarded value is equal).
 * The values are secrets: this object prints and serializes without them, so a stray log line cannot leak one.
 */
export class CallerIdentity {
  readonly #headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the forwarded headers (names lower case, sorted). Never logged either. */
  readonly #key: string;

  constructor(headers: Readonly<Record<string, string>>) {
    this.#headers = headers;
    const entries = Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#key = createHash("sha256").update(JSON.stringify(entries)).digest("hex");
  }

  get key(): string {
    return this.#key;
  }

  /** The headers to send upstream, names in lower case. */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  /** How many headers are forwarded (what logs may say). */
  get size(): number {
    return Object.keys(this.#headers).length;
  }

  toJSON(): string {
    return "[caller identity]";
  }

  [inspect.custom](): string {
    return "[caller identity]";
  }
}

/** Reads the caller identity of a request for one server's `forward` block: compiled once, applied per call. */
export type IdentityReader = (headers: IncomingHeaders) => CallerIdentity;

/**
 * Compiles a `forward` block into a reader. Allow-listed headers are copied when present (absent ones are not
 * sent); a template is rendered from the caller's headers, and left out whole when one it reads is absent (a
 * half-filled `Bearer ` would be a credential of nobody). A trailing-`*` pattern never matches a header the proxy
 * owns, `Authorization` or `Cookie` (config/forward.ts): those pass only when named.
 */
export function compileIdentityReader(forward: ForwardConfig): IdentityReader {
  const exact = new Set(forward.headers.filter((name) => !name.endsWith("*")));
  const prefixes = forward.headers.filter((name) => name.endsWith("*")).map((name) => name.slice(0, -1));
  const templates = Object.entries(forward.templates).map(([name, template]) => ({
    name: name.toLowerCase(),
    template,
  }));
  return (incoming) => {
    const out: Record<string, string> = {};
    for (const name of exact) {
      const value = valueOf(incoming[name]);
      if (value !== undefined) out[name] = value;
    }
    if (prefixes.length > 0) {
      for (const name of Object.keys(incoming)) {
        if (out[name] !== undefined || !prefixes.some((prefix) => name.startsWith(prefix))) continue;
        if (!wildcardMayMatch(name)) continue;
        const value = valueOf(incoming[name]);
        if (value !== undefined) out[name] = value;
      }
    }
    for (const { name, template } of templates) {
      const rendered = render(template, incoming);
      if (rendered !== undefined) out[name] = rendered;
    }
    return new CallerIdentity(out);
  };
}

/** A template with every `{header.Name}` filled in, or undefined when one of them is absent. */
function render(template: string, incoming: IncomingHeaders): string | undefined {
  let missing = false;
  const text = template.replace(TEMPLATE_REFERENCE, (_match, name: string) => {
    const value = valueOf(incoming[name.toLowerCase()]);
    if (value === undefined) missing = true;
    return value ?? "";
  });
  return missing ? undefined : text;
}

/** One header value (node:http joins repeats of most headers; the rest are joined as HTTP lists are). */
function valueOf(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}
