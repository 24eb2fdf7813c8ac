export { REDACTED, redactText, redactUrl } from "./redact.js";
export { ProxyError, type ProxyErrorCode, type ProxyErrorOptions } from "./proxy-error.js";
export {
  BadRequestError,
  ClientClosedRequestError,
  ForbiddenError,
  HostNotAllowedError,
  InputRequiredError,
  InternalError,
  InvalidArgumentsError,
  MethodNotAllowedError,
  NotFoundError,
  OriginNotAllowedError,
  PayloadTooLargeError,
  ProxyBusyError,
  ToolExecutionError,
  UnauthorizedError,
  UnknownToolError,
  UpstreamIncompatibleError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  type ValidationProblem,
} from "./kinds.js";
