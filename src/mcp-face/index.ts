export { McpEndpoint, type McpEndpointOptions } from "./endpoint.js";
export { aggregatable, PREFIX_SEPARATOR, type FaceScope, type FaceSource } from "./scope.js";
