export { McpEndpoint, type McpEndpointOptions } from "./endpoint.js";
export { aggregatable, type FaceScope, type FaceSource } from "./scope.js";
