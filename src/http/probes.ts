import type { IncomingMessage, ServerResponse } from "node:http";

/** Whether the proxy should be sent traffic now (GET /readyz), as the app layer sees it. */
export type Readiness =
  | { readonly ready: true }
  | {
      readonly ready: false;
      /** "starting": some servers have no first outcome yet; "shutting_down": SIGTERM (or another stop) came. */
      readonly reason: "starting" | "shutting_down";
      /** Config mode, while starting: the servers not known yet, by name (names only, nothing from their config). */
      readonly waitingFor?: readonly string[];
    };

export interface ProbeOptions {
  /** --root-path: the probes answer below it as well as at the very root. */
  rootPath: string;
  readiness: () => Readiness;
}

/** The paths of the orchestrator probes (below the root path when there is one). */
export const LIVENESS_PATH = "/livez";
export const READINESS_PATH = "/readyz";

/**
 * The liveness and readiness probes an orchestrator polls (Kubernetes `livenessProbe` and `readinessProbe`). They
 * answer GET and HEAD before anything else in the pipeline: before admission (readiness must say `shutting_down`
 * while new calls are refused), the Host check and auth (a kubelet sends neither a key nor a known Host), and
 * before the mounts (in single-server mode a tool named `livez` keeps its POST route). Never in the OpenAPI
 * document: they are not tools.
 *
 * Returns a function that answers the request and returns true when it is a probe, else returns false at once
 * (a tool call, a POST, leaves at the method check).
 */
export function createProbes(options: ProbeOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { rootPath, readiness } = options;
  const paths = new Map<string, "live" | "ready">([
    [LIVENESS_PATH, "live"],
    [READINESS_PATH, "ready"],
    ...(rootPath
      ? ([
          [`${rootPath}${LIVENESS_PATH}`, "live"],
          [`${rootPath}${READINESS_PATH}`, "ready"],
        ] as const)
      : []),
  ]);

  return function probe(req, res) {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD") return false;
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const kind = paths.get(query === -1 ? url : url.slice(0, query));
    if (kind === undefined) return false;
    if (kind === "live") {
      answer(res, method, 200, { status: "ok" });
      return true;
    }
    const state = readiness();
    if (state.ready) {
      answer(res, method, 200, { status: "ready" });
      return true;
    }
    answer(res, method, 503, {
      status: "not_ready",
      reason: state.reason,
      ...(state.waitingFor ? { waiting_for: state.waitingFor } : {}),
    });
    return true;
  };
}

function answer(res: ServerResponse, method: string, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(method === "HEAD" ? undefined : text);
}
