export { UpstreamConnection, type CallOptions, type HealthReport, type UpstreamServerInfo } from "./connection.js";
export { CONNECTION_STATES, type ConnectionState, type HealthSnapshot } from "./health.js";
