import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small round-robin HTTP load balancer for the scale-out bench, on node:http: the part of a Kubernetes Service or
 * an ingress that matters to the figures (spread the calls, stop sending to a replica that died or is draining),
 * and nothing else. Ours rather than haproxy or nginx: neither is installed here, and a balancer in the bench's own
 * language can report what it did (retries, backends marked down, when) next to the callers' figures.
 *
 * Health is both passive and active:
 * - passive: a connection error to a backend (refused, reset, hang-up) marks it down at once;
 * - active: every `healthIntervalMs` each backend is polled with `GET /readyz`, falling back to `GET /health`
 *   for a backend that answers 404 there (a build without the readiness route); 200 marks it up, any other
 *   status or a refused connection down, and so do two polls in a row without an answer within `probeTimeoutMs`.
 *   When no backend is up, requests go to any (see pick).
 *
 * Retries, at most one per request and only where the call cannot have started on the backend:
 * - the connection was refused (ECONNREFUSED): nothing was sent, so even a POST (every tool call is one, and tool
 *   calls are not idempotent in general) is safe to send elsewhere;
 * - the backend answered 503 with error code `shutting_down`: mcpo-ts refuses new calls with it while it drains,
 *   before the call reaches the upstream, so the call was never made.
 * A reset or hang-up of a connection that carried the request is NOT retried: the call may have run (it is what a
 * SIGKILLed replica does to the calls it held), so the caller gets 502 and decides.
 */
export interface BalancerOptions {
  /** Base URLs of the backends, e.g. "http://127.0.0.1:40123". */
  backends: readonly string[];
  /** How often each backend's readiness is polled. Default 500 ms. */
  healthIntervalMs?: number;
  /** How long a poll may take before it counts as a failure. Default 2000 ms (a loaded 2-core machine is slow). */
  probeTimeoutMs?: number;
  /** Sockets kept per backend. Default 64. */
  maxSocketsPerBackend?: number;
}

export interface BackendStatus {
  url: string;
  up: boolean;
  /** The readiness path in use: "/readyz", or "/health" once /readyz answered 404. */
  probePath: string;
  /** Requests sent to it (retries included). */
  sent: number;
}

export interface BalancerStats {
  /** Requests retried on another backend, by reason. */
  retried: { refused: number; shuttingDown: number };
  /** Times a backend went from up to down, and the reason of each. */
  markedDown: { at: number; url: string; reason: string }[];
  /** Answers the balancer made itself: 502 (backend failed mid-call) and 503 (no backend up). */
  ownErrors: { badGateway: number; noBackend: number };
  /** Requests sent to a backend marked down because none was up. */
  panic: number;
}

export interface Balancer {
  readonly url: string;
  backends(): BackendStatus[];
  stats(): BalancerStats;
  close(): Promise<void>;
}

interface Backend extends BackendStatus {
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
  /** Probes in a row that got no answer. */
  probeFailures: number;
}

const DEFAULT_HEALTH_INTERVAL_MS = 500;
const DEFAULT_PROBE_TIMEOUT_MS = 2000;
const PROBE_TIMEOUTS_TO_DOWN = 2;
const CALL_TIMEOUT_MS = 30_000;
/** Hop-by-hop headers (RFC 9110 §7.6.1) are the balancer's own, never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  const interval = options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  const probeTimeout = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const maxSockets = options.maxSocketsPerBackend ?? 64;
  const backends: Backend[] = options.backends.map((base) => {
    const url = new URL(base);
    return {
      url: base,
      host: url.hostname,
      port: Number(url.port),
      agent: new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
      up: true,
      probePath: "/readyz",
      sent: 0,
      probeFailures: 0,
    };
  });
  const stats: BalancerStats = {
    retried: { refused: 0, shuttingDown: 0 },
    markedDown: [],
    ownErrors: { badGateway: 0, noBackend: 0 },
    panic: 0,
  };
  let next = 0;

  const markDown = (backend: Backend, reason: string): void => {
    if (!backend.up) return;
    backend.up = false;
    stats.markedDown.push({ at: performance.now(), url: backend.url, reason });
  };

  /**
   * The next backend that is up, round robin, skipping `except`. When none is up, any but `except` (Envoy's "panic
   * mode"): a slow probe on a loaded machine must not turn every backend away, and a backend that really is gone
   * refuses the connection, which is retried.
   */
  const pick = (except?: Backend): Backend | undefined => {
    for (const wanted of [true, false]) {
      for (let i = 0; i < backends.length; i++) {
        const candidate = backends[(next + i) % backends.length]!;
        if (candidate.up === wanted && candidate !== except) {
          if (!wanted) stats.panic++;
          next = (next + i + 1) % backends.length;
          return candidate;
        }
      }
    }
    return undefined;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      // Buffered whole (tool call bodies are small) so that a retry can send it again.
      const body = Buffer.concat(chunks);
      const headers = forwardHeaders(req.headers, body.length);
      const send = (backend: Backend | undefined, retried: boolean): void => {
        if (backend === undefined) {
          stats.ownErrors.noBackend++;
          answer(res, 503, "no_backend", "No backend is up", { "Retry-After": "1" });
          return;
        }
        backend.sent++;
        const upstream = request(
          {
            host: backend.host,
            port: backend.port,
            method: req.method,
            path: req.url,
            headers,
            agent: backend.agent,
          },
          (answerIn) => relay(backend, answerIn, retried),
        );
        upstream.setTimeout(CALL_TIMEOUT_MS, () => upstream.destroy(new Error("backend timeout")));
        upstream.on("error", (error: NodeJS.ErrnoException) => {
          markDown(backend, error.code ?? error.message);
          if (error.code === "ECONNREFUSED" && !retried) {
            stats.retried.refused++;
            send(pick(backend), true);
            return;
          }
          stats.ownErrors.badGateway++;
          answer(res, 502, "bad_gateway", `Backend failed: ${error.code ?? error.message}`);
        });
        upstream.end(body);
      };

      const relay = (backend: Backend, answerIn: IncomingMessage, retried: boolean): void => {
        if (answerIn.statusCode === 503 && !retried) {
          // Read the (small) 503 body to see whether the backend refused before starting the call.
          const parts: Buffer[] = [];
          answerIn.on("data", (chunk: Buffer) => parts.push(chunk));
          answerIn.on("end", () => {
            const text = Buffer.concat(parts);
            if (errorCode(text) === "shutting_down") {
              markDown(backend, "shutting_down");
              stats.retried.shuttingDown++;
              send(pick(backend), true);
              return;
            }
            res.writeHead(503, responseHeaders(answerIn.headers));
            res.end(text);
          });
          return;
        }
        res.writeHead(answerIn.statusCode ?? 502, responseHeaders(answerIn.headers));
        // A backend that dies mid-answer: the caller's connection is cut too, never left waiting.
        answerIn.on("error", () => res.destroy());
        answerIn.on("aborted", () => res.destroy());
        answerIn.pipe(res);
      };

      send(pick(), false);
    });
  });

  // Active health: one poll per backend per interval, never two at once for the same backend.
  let stopped = false;
  const polling = new Set<Backend>();
  const poll = async (backend: Backend): Promise<void> => {
    if (polling.has(backend)) return;
    polling.add(backend);
    try {
      let response = await fetch(`${backend.url}${backend.probePath}`, { signal: AbortSignal.timeout(probeTimeout) });
      if (response.status === 404 && backend.probePath === "/readyz") {
        await response.body?.cancel();
        backend.probePath = "/health";
        response = await fetch(`${backend.url}${backend.probePath}`, { signal: AbortSignal.timeout(probeTimeout) });
      }
      await response.body?.cancel();
      if (stopped) return;
      backend.probeFailures = 0;
      if (response.status === 200) backend.up = true;
      else markDown(backend, `${backend.probePath} ${response.status}`);
    } catch (error) {
      if (stopped) return;
      // A refused connection is certain; a probe that timed out may only be a busy machine: down at the second.
      const refused = (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
      backend.probeFailures++;
      if (refused || backend.probeFailures >= PROBE_TIMEOUTS_TO_DOWN) {
        markDown(backend, `${backend.probePath} ${refused ? "ECONNREFUSED" : (error as Error).name}`);
      }
    } finally {
      polling.delete(backend);
    }
  };
  const timer = setInterval(() => backends.forEach((backend) => void poll(backend)), interval);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    backends: () => backends.map(({ url, up, probePath, sent }) => ({ url, up, probePath, sent })),
    stats: () => structuredClone(stats),
    async close() {
      stopped = true;
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const backend of backends) backend.agent.destroy();
    },
  };
}

function forwardHeaders(headers: IncomingHttpHeaders, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== "content-length") out[name] = value;
  }
  out["content-length"] = String(length);
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** `detail.code` of an mcpo-ts error body, if the text is one. */
function errorCode(text: Buffer): string | undefined {
  try {
    const body = JSON.parse(text.toString("utf8")) as { detail?: { code?: unknown } };
    return typeof body.detail?.code === "string" ? body.detail.code : undefined;
  } catch {
    return undefined;
  }
}

function answer(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ detail: { message, code } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
