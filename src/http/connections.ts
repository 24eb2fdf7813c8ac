import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ProxyBusyError, type ProxyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { sendError } from "./error-handler.js";

export interface ConnectionLimitOptions {
  /** Open connections at most (see DEFAULTS.maxConnections). */
  maxConnections: number;
  /** The server serves TLS: connections are counted as TCP sockets, requests arrive on their TLS sockets. */
  tls: boolean;
  logger: Logger;
}

export interface Connections {
  /** Requests being answered now. */
  readonly inFlight: number;
  /** The error for a request on a connection admitted over the cap (503 `too_many_connections`), else undefined. */
  refusal(req: IncomingMessage): ProxyError | undefined;
  /** Answers every request still in flight with `error` (a 503 when the shutdown grace period is over). */
  answerAll(error: ProxyError): void;
  /**
   * Every answer not yet begun ends its connection (`Connection: close`): while draining, a caller must not send its
   * next request on a connection the proxy is about to close (it would see a reset, and could not tell whether that
   * request ran).
   */
  closeAfterAnswers(): void;
}

/** How long a connection refused for the cap may take to send the request that gets the 503. */
const REFUSED_LINGER_MS = 2000;
/** Seconds a caller refused for the cap should wait. */
const REFUSED_RETRY_AFTER = 1;

interface State {
  /** The TCP socket, as counted. */
  readonly socket: Socket;
  /** Requests in progress on it. */
  busy: number;
  /** Admitted over the cap, to be answered 503 and closed. */
  refused: boolean;
}
const STATE = Symbol("mcpo.connection");
type Tracked<T> = T & { [STATE]?: State };

/**
 * Caps open connections so that idle sockets cannot take every file descriptor and lock other clients out. At the
 * cap, a new connection closes the one idle longest (no request in progress; sockets are kept in order of last
 * activity); only when every connection is busy is the new one refused: its request gets 503
 * `too_many_connections` with `Retry-After` and the connection is closed. Also counts requests in flight, which
 * shutdown waits for.
 */
export function limitConnections(server: Server, options: ConnectionLimitOptions): Connections {
  const { maxConnections, logger } = options;
  const open = new Set<Socket>(); // least recently active first
  const responses = new Set<ServerResponse>();
  // TLS: a TCP socket's state until its TLS socket exists (they share the peer's address and port).
  const handshaking = new Map<string, State>();

  server.on("connection", (socket: Tracked<Socket>) => {
    const state: State = { socket, busy: 0, refused: false };
    socket[STATE] = state;
    if (open.size >= maxConnections && !closeLongestIdle()) {
      state.refused = true;
      socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
      logger.debug({ open: open.size }, "connection cap reached with every connection busy: refusing one");
    } else {
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    }
    if (options.tls) {
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      handshaking.set(peer, state);
      socket.once("close", () => handshaking.delete(peer));
    }
  });
  if (options.tls) {
    server.on("secureConnection", (socket: Tracked<TLSSocket>) => {
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      socket[STATE] = handshaking.get(peer);
      handshaking.delete(peer);
    });
  }

  function closeLongestIdle(): boolean {
    for (const socket of open) {
      if ((socket as Tracked<Socket>)[STATE]!.busy === 0) {
        open.delete(socket);
        socket.destroy();
        logger.debug({ open: open.size }, "connection cap reached: closed the connection idle longest");
        return true;
      }
    }
    return false;
  }

  // One listener function for every response (no closure per request): the hot path pays two set writes.
  function responseClosed(this: Tracked<ServerResponse>): void {
    responses.delete(this);
    const state = this[STATE];
    if (!state) return;
    state.busy--;
    if (open.delete(state.socket)) open.add(state.socket); // now the most recently active
  }
  server.on("request", (req: IncomingMessage, res: Tracked<ServerResponse>) => {
    const state = (req.socket as Tracked<Socket>)[STATE];
    if (state) state.busy++;
    res[STATE] = state;
    responses.add(res);
    res.once("close", responseClosed);
  });

  return {
    get inFlight() {
      return responses.size;
    },
    refusal(req) {
      return (req.socket as Tracked<Socket>)[STATE]?.refused
        ? new ProxyBusyError(
            "too_many_connections",
            `Every connection (at most ${maxConnections}) is busy: try again shortly`,
            REFUSED_RETRY_AFTER,
          )
        : undefined;
    },
    answerAll(error) {
      for (const res of responses) sendError(res.req, res, error, logger);
    },
    closeAfterAnswers() {
      for (const res of responses) if (!res.headersSent) res.setHeader("Connection", "close");
    },
  };
}
