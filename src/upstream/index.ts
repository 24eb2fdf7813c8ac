export { CallerIdentity, type IncomingHeaders } from "./caller-identity.js";
export { UpstreamConnection, type CallOptions, type HealthReport, type UpstreamServerInfo } from "./connection.js";
export type { RequestSender } from "./request.js";
export type { ServerRequest, ServerRequestHandler, ServerRequestMethod, ServerRequestResult } from "./elicitation.js";
export { ForwardedSessions } from "./forwarded-sessions.js";
export { CONNECTION_STATES, type ConnectionState, type HealthSnapshot } from "./health.js";
export type { PoolCounts } from "./identity-pool.js";
export {
  DOCUMENTED_RESOURCES,
  NO_OFFERINGS,
  OPERATIONS,
  type GetPromptResult,
  type Offerings,
  type Page,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
} from "./offerings.js";
export type { TaskSnapshot, TaskStart, TaskStatus, TaskStatusListener, UpstreamTask } from "./tasks.js";
