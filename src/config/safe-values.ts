import type { z } from "zod";

/**
 * Values that fetch or spawn would refuse at connect time (with a TypeError that once ended the retry loop, issue
 * 10) are refused here, when the config is loaded. Each problem names the key, never the value: values are secrets.
 */

/** RFC 9110 token: what fetch accepts as a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why fetch would refuse a header value, or undefined when it would send it. */
export function headerValueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "a line break (CR or LF)";
  if (value.includes("\0")) return "a NUL character";
  // fetch sends header values as bytes (WebIDL ByteString): anything past U+00FF throws.
  if (/[\u0100-\uffff]/.test(value)) return "a character outside Latin-1 (fetch sends header values as bytes)";
  return undefined;
}

/** Problems with a map of header names to values, each naming the header. */
export function headerProblems(headers: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      problems.push(`${JSON.stringify(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
      continue;
    }
    const problem = headerValueProblem(value);
    if (problem) problems.push(`the value of header "${name}" has ${problem}`);
  }
  return problems;
}

/** Problems with environment values for a child process, each naming the variable. */
export function envProblems(env: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    // spawn refuses NUL anywhere; "=" would split the name in the KEY=VALUE block the child sees.
    if (name === "" || name.includes("\0") || name.includes("=")) {
      problems.push(`${JSON.stringify(name)} is not a valid variable name (empty, or with "=" or NUL)`);
    } else if (value.includes("\0")) {
      problems.push(`the value of "${name}" has a NUL character`);
    }
  }
  return problems;
}

/** A zod check reporting each problem found by `find` on the value itself (zod's own messages print no values). */
export const checkWith =
  <T>(find: (value: T) => string[]) =>
  (value: T, ctx: z.RefinementCtx): void => {
    for (const message of find(value)) ctx.addIssue({ code: "custom", message });
  };

/**
 * fetch refuses a URL with credentials (`https://user:pass@host/mcp`); Python mcpo's httpx sends them as HTTP Basic
 * auth. So do we: the credentials (percent-decoded, UTF-8) become an `Authorization: Basic` header and leave the
 * URL. Given with an explicit Authorization header too, which one was meant is unclear: that is a problem.
 */
export function moveUrlCredentials(
  url: string,
  headers: Readonly<Record<string, string>>,
): { url: string; headers: Readonly<Record<string, string>> } | { problem: string } {
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return { url, headers };
  if (Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) {
    return { problem: "has credentials (user:password@) and an Authorization header is given too: keep one" };
  }
  const credentials = `${decode(parsed.username)}:${decode(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  return {
    url: parsed.href,
    headers: { Authorization: `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`, ...headers },
  };
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component; // a stray "%": taken as written, as httpx does
  }
}
