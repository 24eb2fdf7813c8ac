import type { IncomingMessage } from "node:http";
import type { MountTable } from "./mount-table.js";

/** Paths served as they are (a mount's or the root's): their template is the path itself. */
const FIXED_PATHS: ReadonlySet<string> = new Set([
  "mcp",
  "sse",
  "messages",
  "docs",
  "openapi.json",
  "health",
  "tools",
  "metrics",
  "livez",
  "readyz",
]);

/**
 * The route template of a request, for its span's `http.route` (src/telemetry/tracing.ts): low cardinality, with a
 * tool, prompt or task named by a placeholder (`/{tool}`, `/time/{tool}`, `/prompts/{name}`, `/tasks/{id}`), a
 * mount by its configured name. Undefined for a path no route serves. Read when the response ends (after the root
 * path was taken off the URL), only while tracing is on.
 */
export function routeTemplate(req: IncomingMessage, mounts: MountTable, rootPath: string): string | undefined {
  const url = req.url ?? "/";
  const hit = mounts.resolve(url);
  const base = hit ? `${rootPath}${mounts.mountPath(hit.server.name)}` : rootPath;
  const below = hit ? hit.subUrl : url;
  const query = below.indexOf("?");
  const segments = (query === -1 ? below : below.slice(0, query)).split("/").filter((segment) => segment !== "");
  const [first, second] = segments;
  if (first === undefined) return hit ? `${base}/` : `${rootPath}/`;
  const method = req.method;
  if (hit && segments.length === 1 && method === "POST" && first !== "mcp" && first !== "messages") {
    return `${base}/{tool}`;
  }
  if (segments.length === 1 && FIXED_PATHS.has(first)) return `${base}/${first}`;
  if (!hit) return undefined;
  if (first === "resources" && segments.length <= 2) return `${base}/${segments.join("/")}`;
  if (first === "prompts" && segments.length <= 2)
    return second === undefined ? `${base}/prompts` : `${base}/prompts/{name}`;
  if (first === "tasks" && segments.length === 2) return `${base}/tasks/{id}`;
  return undefined;
}
