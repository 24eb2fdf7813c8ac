/**
 * Every default of mcpo-ts, in one place. Times are in seconds, as users write
 * them on the command line and in config files; the schema turns them into
 * milliseconds for the core. The README repeats this table.
 */
export const DEFAULTS = {
  /** Title of an OpenAPI document when neither --name nor the upstream gives one. */
  title: "mcpo-ts",
  host: "0.0.0.0",
  port: 8000,
  serverType: "stdio",
  corsAllowOrigins: ["*"],
  rootPath: "",
  /** Where servers of a config file are mounted: `/{name}/...`. */
  pathPrefix: "/",
  logLevel: "info",
  /** Host names served when listening on loopback and --allowed-hosts is not given (DNS-rebinding guard). */
  loopbackHosts: ["localhost", "127.0.0.1", "[::1]"],
  /** Open client connections at most; past it the longest-idle one is closed for a new one (503 if none is idle). */
  maxConnections: 1024,
  /** Bound on a request's headers, from the connection's start: a silent new connection is closed after it. */
  headersTimeout: 10,
  /** How long a kept-alive connection may wait for its next request. */
  keepAliveTimeout: 5,
  /** Prometheus metrics at `GET /metrics` (off: --no-metrics; elsewhere: --metrics-port). */
  metrics: true,
  /**
   * One `request` log line per answer at info level: off unless --access-log (the Helm chart turns it on). Writing
   * it costs about 35 µs of CPU a request in the target check (measured), a tenth of a call's whole cost.
   */
  accessLog: false,
  /** Largest accepted request body: 4 MiB. */
  maxBodySize: 4 * 1024 * 1024,
  /** The MCP endpoints (`/mcp`, `/sse`): sessions (2025 and legacy SSE) open at once per endpoint, and how long an unused one lives. */
  mcp: {
    max_sessions: 1000,
    session_idle_timeout: 1800,
  },
  /** OAuth to upstreams (the `oauth` block and the --oauth flags). */
  oauth: {
    grant: "authorization_code",
    /** Loopback port `mcpo auth` listens on for the authorization redirect (register this redirect URI). */
    redirect_port: 33418,
    client_name: "mcpo-ts",
    /** How long `mcpo auth` waits for the browser to come back, in seconds. */
    login_timeout: 300,
    /** Token directory below $XDG_STATE_HOME (default ~/.local/state). */
    token_subdir: "mcpo-ts/oauth",
  },
  connection: {
    /** Connection attempts before the server is marked down (it keeps being retried in the background); -1 = forever. */
    retry_attempts: 3,
    /** First wait between attempts; multiplied by `backoff_factor` after each failure. */
    retry_delay: 2,
    /** Cap on the wait between attempts; background retries go on at this pace. */
    max_retry_delay: 60,
    backoff_factor: 2,
    /** Bound on dialing plus the MCP `initialize` handshake. */
    connection_timeout: 30,
    /** Bound on silence on an SSE stream. */
    sse_read_timeout: 60,
    /**
     * Bound on one tool call without progress. 300 s matches Open WebUI's own client timeout, so long tools are
     * not cut off first by us. Each progress notification from the tool starts it again, up to max_tool_timeout.
     */
    tool_timeout: 300,
    /** Hard cap on one tool call, however much progress it reports. */
    max_tool_timeout: 1800,
    /** Calls running at once on one server; more wait in a queue. */
    max_concurrency: 128,
    /** Calls waiting for a slot; past this, calls are refused with 503 and Retry-After. */
    max_queue: 1024,
    /** Active ping period; 0 = off (health is passive, checked on demand). */
    health_check_interval: 0,
    /**
     * Which MCP revision to speak: `auto` probes with `server/discover` and falls back to the 2025 `initialize`
     * handshake, so any server works; `legacy` speaks only the 2025 handshake; a revision (`2026-07-28`) pins it.
     */
    protocol: "auto",
    /**
     * How a server's request for user input (elicitation) is answered, as there is no human behind a REST call:
     * `defaults` accepts a form with its schema's defaults when every required field has one, else declines;
     * `decline` always declines. A call whose request was not satisfied answers 409 `input_required`.
     */
    elicitation: "defaults",
    /**
     * How a successful tool result holding one image (beside any text) is answered: `data-url` gives the JSON body
     * Python mcpo gives (the image as a data URL string); `binary` answers the image's own bytes with its MIME type,
     * which Open WebUI hands its model as a picture (a data URL it moves out into a chat file the model never sees).
     * Either way, a caller whose Accept prefers the image's type over JSON gets the bytes.
     */
    image_results: "data-url",
  },
  /** Inbound JWTs (src/auth/): the config file's `auth` block and the matching flags. */
  auth: {
    /** Header Open WebUI puts its signed user token in (its FORWARD_USER_INFO_HEADER_JWT). */
    jwt_header: "X-OpenWebUI-User-Jwt",
    /** Leeway on `exp` and `nbf`, in seconds, for clocks that drift apart. */
    jwt_clock_skew: 30,
    /** Bound on one fetch of the JWKS or of the issuer's openid-configuration. */
    jwks_timeout: 5,
  },
  /** Per-caller identity (`forward` of a remote server, `--forward-header`). */
  forward: {
    /** Upstream sessions kept at most per server, one per identity; a new identity past it gets 503 when all are busy. */
    max_sessions: 100,
    /** Seconds an identity's upstream session may stay unused before it is closed. */
    session_idle_timeout: 300,
  },
  /** Bound on the MCP ping behind `GET /health`. */
  healthCheckTimeout: 5,
  /**
   * Seconds shutdown waits for calls in flight (new requests get 503 meanwhile) before answering them 503 and
   * closing upstreams (--shutdown-grace).
   */
  shutdownGrace: 5,
  /**
   * Seconds a stopping proxy keeps serving refusals (503 `shutting_down`, readiness failed) before it may close,
   * even with no call in flight, so that a balancer notices before the port goes (--shutdown-delay; 0: none).
   */
  shutdownDelay: 0,
} as const;
