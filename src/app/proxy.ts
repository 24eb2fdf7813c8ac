import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { AppConfig } from "../config/schema.js";
import { createHttpApp } from "../http/app.js";
import type { Logger } from "../log/logger.js";
import { buildOpenApiDocument, type OpenAPIObject } from "../openapi/index.js";
import { ServerMount } from "./server-mount.js";
import { PACKAGE_VERSION } from "./version.js";

export interface ProxyHandle {
  /** Where the proxy listens, e.g. "http://127.0.0.1:8000". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish (bounded), closes every upstream. */
  close(): Promise<void>;
}

/** Wires config → upstream connection → catalog → OpenAPI + express, and listens. */
export async function startProxy(config: AppConfig, logger: Logger): Promise<ProxyHandle> {
  const server = config.servers[0];
  if (!server || config.servers.length !== 1) throw new Error("exactly one upstream server is supported here");
  const mount = new ServerMount(server, {
    baseEnv: config.baseEnv,
    logger,
    clientInfo: { name: "mcpo-ts", version: PACKAGE_VERSION },
  });

  const title = (): string =>
    config.doc.title ?? mount.connection.serverInfo?.title ?? mount.connection.serverInfo?.name ?? "mcpo-ts";
  const buildDocument = (): OpenAPIObject => {
    const info = mount.connection.serverInfo;
    return buildOpenApiDocument({
      title: title(),
      description:
        config.doc.description ??
        `Tools of the MCP server ${info?.name ?? mount.connection.label}, served over HTTP by mcpo-ts`,
      version: config.doc.version ?? info?.version ?? "1.0.0",
      rootPath: config.http.rootPath,
      mounts: [{ prefix: "", catalog: mount.catalog }],
      bearerAuth: config.http.apiKey !== undefined,
      logger,
    });
  };
  let document = buildDocument();
  mount.on("changed", () => {
    document = buildDocument();
  });

  const app = createHttpApp({
    http: config.http,
    target: mount,
    document: () => document,
    docsTitle: title,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    logger,
  });
  const httpServer = createServer(config, app);
  let inFlight = 0;
  httpServer.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => inFlight--);
  });

  mount.start();
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.http.port, config.http.host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // The upstream is already starting (a stdio child would keep us alive): end it before giving up.
    await mount.close();
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`cannot listen on ${config.http.host}:${config.http.port} (${code})`, { cause: error });
  }
  const port = (httpServer.address() as AddressInfo).port;
  const scheme = config.http.sslCertfile ? "https" : "http";
  const url = `${scheme}://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.info({ url, docs: `${url}${config.http.rootPath}/docs` }, "listening");

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      httpServer.close();
      const deadline = Date.now() + config.shutdownGraceMs;
      while (inFlight > 0 && Date.now() < deadline) {
        httpServer.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (inFlight > 0)
        logger.warn({ in_flight: inFlight }, "shutdown grace period over; dropping calls still in flight");
      httpServer.closeAllConnections();
      await mount.close();
    })());

  return { url, port, close };
}

function createServer(config: AppConfig, app: ReturnType<typeof createHttpApp>): Server {
  const { sslCertfile, sslKeyfile } = config.http;
  if (sslCertfile && sslKeyfile) {
    return createHttpsServer({ cert: readFileSync(sslCertfile), key: readFileSync(sslKeyfile) }, app);
  }
  return createHttpServer(app);
}
