import { SUPPORTED_PROTOCOL_VERSIONS, type ClientOptions, type PriorDiscovery } from "@modelcontextprotocol/client";
import { FIRST_MODERN_REVISION, type ConnectionSettings, type TransportConfig } from "../config/schema.js";

/** Every revision we can speak: the 2025 family through `initialize`, and 2026-07-28 through `server/discover`. */
export const OUR_REVISIONS: readonly string[] = [FIRST_MODERN_REVISION, ...SUPPORTED_PROTOCOL_VERSIONS];

/**
 * Longest wait for the `server/discover` probe (half the connection timeout when that is less, leaving the other
 * half for `initialize`). On stdio a server that ignores requests before `initialize` (some 2025 servers do)
 * costs this once, then falls back; on HTTP silence is an outage and the attempt fails.
 */
export const PROBE_TIMEOUT_MS = 10_000;

/** The revisions a `protocol` setting offers an upstream (what /health names when they share none). */
export function offeredRevisions(settings: ConnectionSettings): readonly string[] {
  const { protocol } = settings;
  if (protocol === "legacy") return SUPPORTED_PROTOCOL_VERSIONS;
  return protocol === "auto" ? OUR_REVISIONS : [protocol.pin];
}

/** The SDK's version negotiation for a `protocol` setting. */
export function negotiationFor(settings: ConnectionSettings): NonNullable<ClientOptions["versionNegotiation"]> {
  const probe = { timeoutMs: Math.min(PROBE_TIMEOUT_MS, Math.ceil(settings.connectionTimeoutMs / 2)) };
  const { protocol } = settings;
  if (protocol === "legacy") return { mode: "legacy" };
  if (protocol === "auto") return { mode: "auto", probe };
  return { mode: { pin: protocol.pin }, probe };
}

/**
 * What to tell a user whose upstream speaks no revision we offered, given what they asked for. The message
 * names both sides' versions; this names the setting to change.
 */
export function incompatibleHint(settings: ConnectionSettings): string {
  const { protocol } = settings;
  if (protocol === "legacy") {
    return `protocol is legacy (we offered ${SUPPORTED_PROTOCOL_VERSIONS[0]}): set protocol to auto (--protocol auto) to reach 2026-07-28 servers`;
  }
  if (protocol === "auto") {
    return `we speak ${OUR_REVISIONS.join(", ")}: the upstream needs a revision this proxy does not know; upgrade mcpo-ts or the server`;
  }
  return `protocol is pinned to ${protocol.pin}: set protocol to auto (--protocol auto) to accept whatever the upstream speaks`;
}

/**
 * The era verdict remembered across reconnects, so a reconnect does not probe again (and an upstream that
 * exits on the probe is spawned once per connection, not twice). The first connection of `auto` or a pin finds
 * it; legacy SSE is a 2025 transport, so it is known from the start.
 */
export function initialVerdict(transport: TransportConfig): PriorDiscovery | undefined {
  return transport.type === "sse" ? { kind: "legacy" } : undefined;
}

/**
 * A refusal that names a revision we could have spoken is not incompatibility: under `auto` it means the probe
 * went unanswered (a stdio server still starting, say) and the fallback `initialize` reached a 2026-only server.
 * The next attempt probes again.
 */
export function missedProbe(settings: ConnectionSettings, upstreamVersions: readonly string[] | undefined): boolean {
  return settings.protocol === "auto" && (upstreamVersions ?? []).some((version) => OUR_REVISIONS.includes(version));
}

/** `modern` (2026-07-28 and later, no `initialize`) or `legacy` (the 2025 revisions). */
export type Era = "modern" | "legacy";
