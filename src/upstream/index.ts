export { UpstreamConnection, type CallOptions, type HealthReport, type UpstreamServerInfo } from "./connection.js";
export type { ConnectionState, HealthSnapshot } from "./health.js";
