import type { RequestHandler } from "express";
import { redactText } from "../errors/index.js";
import type { ForwardedSessions, UpstreamConnection } from "../upstream/index.js";

/**
 * The `/health` body for one upstream (REFERENCE §1 shape; never headers, env or args). Its messages quote errors:
 * URLs in them are redacted (ProxyErrors are already; a reason given as plain text may not be).
 */
export async function healthOf(
  connection: UpstreamConnection,
  timeoutMs: number,
  forwarding?: ForwardedSessions,
): Promise<{ healthy: boolean; body: unknown }> {
  const report = await connection.checkHealth(timeoutMs);
  const info = connection.serverInfo;
  // A forwarding server whose upstream wants each caller's credentials cannot be checked without a caller: its
  // shared connection's refusal is the expected state, not an outage. Counts only, never identities.
  const callersOnly = forwarding !== undefined && connection.wantsCallerCredentials;
  const healthy = report.healthy || callersOnly;
  const sessions = forwarding?.counts();
  return {
    healthy,
    body: {
      status: healthy ? "healthy" : "unhealthy",
      connection_name: connection.label,
      message: callersOnly
        ? `the upstream serves callers with their own credentials only; ${sessions!.open} caller sessions open`
        : redactText(report.message),
      details: {
        ...report.snapshot,
        last_error: report.snapshot.last_error === null ? null : redactText(report.snapshot.last_error),
        check_type: "on_demand",
        server: info ? { name: info.name, version: info.version } : null,
        tools: connection.tools.length,
        ...(sessions
          ? { forward: { sessions_open: sessions.open, sessions_busy: sessions.busy, max_sessions: sessions.max } }
          : {}),
      },
    },
  };
}

/** GET /health: checks the upstream now (MCP ping); 200 when healthy, else 503. */
export function createHealthHandler(
  connection: UpstreamConnection,
  timeoutMs: number,
  forwarding?: ForwardedSessions,
): RequestHandler {
  return async function health(_req, res) {
    const { healthy, body } = await healthOf(connection, timeoutMs, forwarding);
    res
      .status(healthy ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json(body);
  };
}

export interface AggregateHealthOptions {
  servers: () => readonly {
    name: string;
    connection: UpstreamConnection;
    forwarding?: ForwardedSessions | undefined;
  }[];
  /** Servers the config disables: listed, never checked. */
  disabled: () => readonly string[];
  timeoutMs: number;
}

/** GET /health in multi mode: every server checked in parallel; 200 only when all enabled ones are healthy. */
export function createAggregateHealthHandler(options: AggregateHealthOptions): RequestHandler {
  return async function healthOfAll(_req, res) {
    const servers = options.servers();
    const reports = await Promise.all(
      servers.map((server) => healthOf(server.connection, options.timeoutMs, server.forwarding)),
    );
    const healthy = reports.every((report) => report.healthy);
    res
      .status(healthy ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json({
        status: healthy ? "healthy" : "unhealthy",
        message: healthy
          ? `all ${servers.length} servers OK`
          : `${reports.filter((report) => !report.healthy).length} of ${servers.length} servers unhealthy`,
        servers: Object.fromEntries(servers.map((server, index) => [server.name, reports[index]!.body])),
        disabled: options.disabled(),
      });
  };
}
