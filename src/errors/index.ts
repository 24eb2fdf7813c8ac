export { ProxyError, type ProxyErrorCode, type ProxyErrorOptions } from "./proxy-error.js";
export {
  BadRequestError,
  ClientClosedRequestError,
  ForbiddenError,
  InternalError,
  InvalidArgumentsError,
  NotFoundError,
  PayloadTooLargeError,
  ToolExecutionError,
  UnauthorizedError,
  UnknownToolError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type ValidationProblem,
} from "./kinds.js";
