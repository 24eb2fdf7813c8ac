import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { DEFAULTS } from "../config/defaults.js";
import type { AppConfig } from "../config/schema.js";
import { createHttpApp } from "../http/app.js";
import type { Logger } from "../log/logger.js";
import { watchConfigFile } from "./hot-reload.js";
import { ProxyRuntime } from "./runtime.js";

export interface ProxyHandle {
  /** Where the proxy listens, e.g. "http://127.0.0.1:8000". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish (bounded), closes every upstream. */
  close(): Promise<void>;
}

/** Wires config → servers (upstream + catalog + documents) → express, listens, and owns shutdown. */
export async function startProxy(config: AppConfig, logger: Logger): Promise<ProxyHandle> {
  // The root routes read the runtime, created just below from the app's mount table.
  const { app, mounts, toolCalls } = createHttpApp({
    http: config.http,
    mode: config.mode,
    pathPrefix: config.pathPrefix,
    rootDocument: () => runtime.aggregatedDocument(),
    rootTitle: config.doc.title ?? DEFAULTS.title,
    disabledServers: () => runtime.disabled(),
    healthTimeoutMs: config.healthCheckTimeoutMs,
    logger,
  });
  const runtime = new ProxyRuntime(config, logger, mounts);
  const httpServer = createServer(config, (req, res) => {
    if (!toolCalls(req, res)) app(req, res);
  });
  let inFlight = 0;
  httpServer.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => inFlight--);
  });

  // Listen first: the port answers (503 for servers still connecting) however many servers there are to start.
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.http.port, config.http.host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`cannot listen on ${config.http.host}:${config.http.port} (${code})`, { cause: error });
  }
  const port = (httpServer.address() as AddressInfo).port;
  const scheme = config.http.sslCertfile ? "https" : "http";
  const url = `${scheme}://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.info({ url, docs: `${url}${config.http.rootPath}/docs` }, "listening");
  // Every server starts connecting now, in parallel.
  await runtime.apply(config.servers);

  const watcher =
    config.source?.hotReload === true
      ? watchConfigFile(config.source, (loaded) => runtime.apply(loaded.servers), logger)
      : undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      watcher?.close();
      httpServer.close();
      const deadline = Date.now() + config.shutdownGraceMs;
      while (inFlight > 0 && Date.now() < deadline) {
        httpServer.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (inFlight > 0)
        logger.warn({ in_flight: inFlight }, "shutdown grace period over; dropping calls still in flight");
      httpServer.closeAllConnections();
      await runtime.close();
    })());

  return { url, port, close };
}

function createServer(config: AppConfig, app: RequestListener): Server {
  const { sslCertfile, sslKeyfile } = config.http;
  if (sslCertfile && sslKeyfile) {
    return createHttpsServer({ cert: readFileSync(sslCertfile), key: readFileSync(sslKeyfile) }, app);
  }
  return createHttpServer(app);
}
