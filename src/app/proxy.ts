import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { DEFAULTS } from "../config/defaults.js";
import type { AppConfig } from "../config/schema.js";
import { ProxyBusyError } from "../errors/index.js";
import { createHttpApp } from "../http/app.js";
import { limitConnections, type Connections } from "../http/connections.js";
import type { Readiness } from "../http/probes.js";
import { createMetricsListener } from "../http/metrics-route.js";
import type { Logger } from "../log/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { watchConfigFile } from "./hot-reload.js";
import { ProxyRuntime } from "./runtime.js";

export interface ProxyHandle {
  /** Where the proxy listens, e.g. "http://127.0.0.1:8000". */
  readonly url: string;
  readonly port: number;
  /**
   * Fails readiness, lets in-flight calls finish (bounded by the grace period) while still accepting connections
   * (new requests get 503 `shutting_down`; so do calls still running when the grace period ends), then stops
   * listening and closes every upstream.
   */
  close(): Promise<void>;
}

/** Wires config → servers (upstream + catalog + documents) → express, listens, and owns shutdown. */
export async function startProxy(config: AppConfig, logger: Logger): Promise<ProxyHandle> {
  // The root routes read the runtime, and admission the connections, both created just below.
  let stopping = false;
  const shuttingDown = new ProxyBusyError("shutting_down", "The proxy is shutting down", SHUTDOWN_RETRY_AFTER);
  const enabled = config.servers.filter((server) => !server.disabled).map((server) => server.name);
  let started = false;
  let ready = false;
  // A registry of this proxy's own: two proxies in one process (tests) count apart.
  const metrics = config.http.metrics === false ? undefined : new Metrics();
  const { listener, mounts } = createHttpApp({
    http: config.http,
    mode: config.mode,
    pathPrefix: config.pathPrefix,
    rootDocument: () => runtime.aggregatedDocument(),
    rootTitle: config.doc.title ?? DEFAULTS.title,
    disabledServers: () => runtime.disabled(),
    healthTimeoutMs: config.healthCheckTimeoutMs,
    refusal: (req) => (stopping ? shuttingDown : connections.refusal(req)),
    readiness,
    ...(config.mode === "multi" ? { aggregateMcp: () => runtime.mcp } : {}),
    ...(metrics ? { metrics } : {}),
    logger,
  });
  const runtime = new ProxyRuntime(config, logger, mounts, metrics);
  const httpServer = createServer(config, listener);
  const connections: Connections = limitConnections(httpServer, {
    maxConnections: config.http.maxConnections,
    tls: config.http.sslCertfile !== undefined,
    logger,
  });

  // Listen first: the port answers (503 for servers still connecting) however many servers there are to start.
  await listen(httpServer, config.http.port, config.http.host, "listen");
  const port = (httpServer.address() as AddressInfo).port;
  const scheme = config.http.sslCertfile ? "https" : "http";
  const base = (at: number): string =>
    `${scheme}://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${at}`;
  const url = base(port);
  logger.info({ url, docs: `${url}${config.http.rootPath}/docs` }, "listening");
  const metricsServer =
    metrics && config.http.metrics !== false && config.http.metrics.port !== undefined
      ? await listenForMetrics(config, createMetricsListener({ http: config.http, metrics, logger }))
      : undefined;
  if (metricsServer) {
    logger.info({ url: `${base((metricsServer.address() as AddressInfo).port)}/metrics` }, "metrics listening");
  }
  // Every server starts connecting now, in parallel.
  const applying = runtime.apply(config.servers);
  started = true;
  await applying;

  const watcher =
    config.source?.hotReload === true
      ? watchConfigFile(
          config.source,
          (loaded) => runtime.apply(loaded.servers),
          logger,
          (outcome) => metrics?.configReload(outcome),
        )
      : undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      watcher?.close();
      // Readiness fails now, and every new request gets 503 `shutting_down` with Retry-After. The listener stays
      // open meanwhile: a load balancer that has not yet seen the readiness change still sends requests here, and a
      // refusal it can retry elsewhere beats a refused connection.
      stopping = true;
      connections.closeAfterAnswers();
      logger.info(
        { in_flight: connections.inFlight, grace_s: config.shutdownGraceMs / 1000 },
        "draining: waiting for calls in flight",
      );
      // The delay first (refusals only, so a balancer notices), then the grace period for the calls still running.
      const signalled = Date.now();
      await drain(signalled + config.shutdownDelayMs + config.shutdownGraceMs, signalled + config.shutdownDelayMs);
      httpServer.close();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      if (connections.inFlight > 0) {
        logger.warn(
          { in_flight: connections.inFlight },
          "shutdown grace period over; answering 503 to calls in flight",
        );
        connections.answerAll(shuttingDown);
        await drain(Date.now() + ANSWER_FLUSH_MS); // the 503s go out before the sockets are closed
      }
      httpServer.closeAllConnections();
      await runtime.close();
    })());

  return { url, port, close };

  /**
   * GET /readyz: not ready while shutting down, nor until every enabled server has its first outcome. It stays
   * ready after that, whatever happens to a server (its own routes answer 503 while it is down) and whatever a hot
   * reload adds: a config change reaching every replica at once must not take them all out of the balancer together.
   */
  function readiness(): Readiness {
    if (stopping) return SHUTTING_DOWN;
    if (!ready) {
      const waiting = started ? runtime.waitingFor() : enabled;
      if (waiting.length > 0) {
        return { ready: false, reason: "starting", ...(config.mode === "multi" ? { waitingFor: waiting } : {}) };
      }
      ready = true;
    }
    return READY;
  }

  /**
   * Waits until no request is in flight and `notBefore` has passed, or until `deadline`. Idle kept-alive connections are left open meanwhile: closing
   * one races with a caller writing its next request on it (a reset, which the caller cannot retry safely), while a
   * request that arrives on it gets 503 `shutting_down` with `Connection: close`, which it can.
   */
  async function drain(deadline: number, notBefore = 0): Promise<void> {
    while ((connections.inFlight > 0 || Date.now() < notBefore) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const READY: Readiness = { ready: true };
const SHUTTING_DOWN: Readiness = { ready: false, reason: "shutting_down" };
/** The --metrics-port listener, on the main listener's host and TLS settings. */
async function listenForMetrics(config: AppConfig, listener: RequestListener): Promise<Server> {
  const port = config.http.metrics === false ? 0 : (config.http.metrics.port ?? 0);
  const server = createServer(config, listener);
  await listen(server, port, config.http.host, "listen for metrics");
  return server;
}

/** Listens on `host:port`, or fails with an error naming them and the OS's code (`cannot ${what} on ...`). */
async function listen(server: Server, port: number, host: string, what: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`cannot ${what} on ${host}:${port} (${code})`, { cause: error });
  }
}

/** Seconds a caller refused during shutdown should wait (a restart, usually). */
const SHUTDOWN_RETRY_AFTER = 5;
/** Bound on writing the 503s to calls that outlived the grace period. */
const ANSWER_FLUSH_MS = 1000;

function createServer(config: AppConfig, app: RequestListener): Server {
  const { sslCertfile, sslKeyfile, headersTimeoutMs, keepAliveTimeoutMs } = config.http;
  // Shorter than Node's (60 s for headers, checked every 30 s): silent connections go within seconds.
  const options: ServerOptions = {
    headersTimeout: headersTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(headersTimeoutMs, CHECK_INTERVAL_MS),
  };
  if (sslCertfile && sslKeyfile) {
    return createHttpsServer(
      {
        ...options,
        cert: readFileSync(sslCertfile),
        key: readFileSync(sslKeyfile),
        handshakeTimeout: headersTimeoutMs,
      },
      app,
    );
  }
  return createHttpServer(options, app);
}

/** How often Node checks connections against the headers timeout. */
const CHECK_INTERVAL_MS = 1000;
