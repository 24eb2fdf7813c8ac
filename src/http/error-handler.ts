import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorRequestHandler, RequestHandler } from "express";
import {
  AuthUnavailableError,
  BadRequestError,
  InternalError,
  InvalidArgumentsError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ProxyBusyError,
  TooManySessionsError,
  TooManyTasksError,
  ProxyError,
  UnauthorizedError,
  UpstreamUnavailableError,
} from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { startedToolStream } from "./tool-stream.js";
import { requestIdOf } from "./observe.js";
import { writeJson } from "./write-json.js";

/** The JSON body of an error response, in FastAPI's shape as Python mcpo answers. */
export function errorBody(error: ProxyError): unknown {
  if (error instanceof InvalidArgumentsError) return { detail: error.problems };
  return { detail: { message: error.message, code: error.code, ...error.extra } };
}

/**
 * Errors that express or body-parser raise, as ProxyErrors. body-parser marks
 * its errors with `type` (e.g. "entity.too.large") and `status`.
 */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  const { type, status, limit } = (error ?? {}) as { type?: unknown; status?: unknown; limit?: unknown };
  if (type === "entity.too.large")
    return new PayloadTooLargeError(typeof limit === "number" ? limit : 0, { cause: error });
  if (type === "entity.parse.failed") {
    const reason = error instanceof Error ? error.message : "unparsable";
    return new BadRequestError(`The request body is not valid JSON: ${reason}`, { cause: error });
  }
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new BadRequestError(error instanceof Error ? error.message : "Bad request", { cause: error });
  }
  return new InternalError("Internal error in the proxy", { cause: error });
}

/**
 * The one place where errors become HTTP answers: the status comes from the
 * ProxyError, with Retry-After for 503, WWW-Authenticate for 401, Allow for
 * 405, and `Connection: close` when the proxy itself is busy or stopping. Used
 * by the express error handler and by the tool-call path alike. A response
 * already answered (e.g. by shutdown, whose 503 beat the call) is left alone.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  const proxyError = toProxyError(error);
  const status = proxyError.httpStatus;
  // The path without its query: a caller may put a secret there (`?api_key=`), and logs never carry one.
  const url = req.url ?? "";
  const query = url.indexOf("?");
  const context = {
    req_id: requestIdOf(req),
    method: req.method,
    path: query === -1 ? url : url.slice(0, query),
    status,
    code: proxyError.code,
  };
  if (proxyError.code === "internal") logger.error({ ...context, err: error }, proxyError.message);
  else if (status >= 500) logger.warn(context, proxyError.message);
  else logger.debug(context, proxyError.message);
  if (res.writableEnded) return;
  // A streamed call (tool-stream.ts) already answered 200: the error is its last event.
  const stream = res.headersSent && status !== 499 ? startedToolStream(res) : undefined;
  if (stream) {
    stream.error(status, errorBody(proxyError));
    return;
  }
  if (res.headersSent || status === 499) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (
    proxyError instanceof UpstreamUnavailableError ||
    proxyError instanceof ProxyBusyError ||
    proxyError instanceof AuthUnavailableError ||
    proxyError instanceof TooManySessionsError ||
    proxyError instanceof TooManyTasksError
  )
    headers["Retry-After"] = String(proxyError.retryAfterSeconds);
  if (proxyError instanceof ProxyBusyError) headers.Connection = "close";
  if (proxyError instanceof MethodNotAllowedError) headers.Allow = proxyError.allow;
  if (status === 401)
    headers["WWW-Authenticate"] = proxyError instanceof UnauthorizedError ? proxyError.challenge : "Bearer";
  writeJson(res, status, errorBody(proxyError), headers);
}

/** express's error handler: registered last, it hands everything to sendError. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return function renderError(error: unknown, req, res, _next) {
    sendError(req, res, error, logger);
  };
}

/** JSON 404 for everything no route claimed. */
export function notFound(): RequestHandler {
  return function routeNotFound(req, _res, next) {
    next(new NotFoundError(req.method, req.path));
  };
}
