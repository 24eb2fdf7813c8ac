import { DEFAULTS } from "../config/defaults.js";
import type { HttpConfig } from "../config/schema.js";

/** Host values remembered as accepted, so that the check costs one lookup per request. */
const MAX_REMEMBERED = 64;

/**
 * The DNS-rebinding guard: a page on a hostile domain that resolves to 127.0.0.1 reaches a proxy on loopback with
 * `Host: evil.example`, so only these host names are served (any port; compared ignoring case; IPv6 in brackets,
 * `[::1]`): `--allowed-hosts` when given, else the loopback names when listening on loopback. Returns undefined
 * when every host is accepted (not on loopback, or `*` allowed). A request without a Host header (HTTP/1.0, no
 * browser) passes.
 */
export function createHostCheck(
  http: Pick<HttpConfig, "host" | "allowedHosts">,
): ((host: string | undefined) => boolean) | undefined {
  const allowed = http.allowedHosts ?? (isLoopbackHost(http.host) ? DEFAULTS.loopbackHosts : ["*"]);
  if (allowed.includes("*")) return undefined;
  const names = new Set(allowed.map((name) => name.toLowerCase()));
  const accepted = new Set<string>();
  return (host) => {
    if (host === undefined || accepted.has(host)) return true;
    if (!names.has(hostnameOf(host).toLowerCase())) return false;
    if (accepted.size < MAX_REMEMBERED) accepted.add(host);
    return true;
  };
}

/** "localhost:8000" → "localhost", "[::1]:8000" → "[::1]", "example" → "example". */
export function hostnameOf(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/** Whether `--host` is a loopback address, where the Host check is on by default. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
