/** `${VAR}` or `${VAR:-default}`; `$${...}` stays literal. */
const PLACEHOLDER = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed JSON
 * value, so secrets stay out of config files. Returns a new value and the
 * variables that were neither set nor defaulted.
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const visit = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") {
      return node.replace(PLACEHOLDER, (match: string, escape: string, name: string, fallback?: string) => {
        if (escape) return match.slice(1);
        const resolved = env[name];
        if (resolved !== undefined && resolved !== "") return resolved;
        if (fallback !== undefined) return fallback;
        problems.push({ path, message: `\${${name}} is not set (use \${${name}:-default} for a default)` });
        return match;
      });
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (typeof node === "object" && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, visit(item, [...path, key])]));
    }
    return node;
  };
  return { value: visit(value, []), problems };
}
