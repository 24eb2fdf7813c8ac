import type { IncomingMessage, ServerResponse } from "node:http";
import {
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  type Server,
  type Transport,
} from "@modelcontextprotocol/server";
import type { SSEServerTransport } from "@modelcontextprotocol/server-legacy/sse";
import type { Logger } from "../log/logger.js";
import { callerOf, jsonRpcError, ownerOf, respond, type OpenSession, type SessionTable } from "./sessions.js";

interface SseSession extends OpenSession {
  readonly kind: "sse";
  readonly transport: SSEServerTransport;
}

export interface LegacySseOptions {
  table: SessionTable;
  /** A fresh MCP server for a new session. */
  build: () => Server;
  logger: Logger;
}

/** The frozen transport's module, loaded on the first GET /sse only (see #transportClass). */
let transportModule: Promise<typeof import("@modelcontextprotocol/server-legacy/sse")> | undefined;

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05) of one MCP endpoint, for clients that predate Streamable
 * HTTP: `GET …/sse` opens a session whose stream carries every answer and notification, and whose first event
 * (`endpoint`) names `…/messages?sessionId=…`, where the client POSTs its messages (202, answered on the stream).
 *
 * Served by the SDK's own frozen v1 transport (`SSEServerTransport` from @modelcontextprotocol/server-legacy),
 * which works on plain node:http req/res and with a v2 `Server`. Its sessions live in the endpoint's SessionTable
 * beside the Streamable HTTP ones: bounded together, closed when the stream closes or after the idle time (no
 * POST), bound to the credentials of the GET that opened them. A stream that closes closes its face server, and
 * the SDK aborts the signal of every request still running on it: the upstream calls are cancelled.
 */
export class LegacySse {
  readonly #options: LegacySseOptions;

  constructor(options: LegacySseOptions) {
    this.#options = options;
  }

  /** GET …/sse: opens a session; `messagesPath` is the public path its client will POST to. */
  async open(req: IncomingMessage, res: ServerResponse, messagesPath: string): Promise<void> {
    const { table, build, logger } = this.#options;
    const refused = table.refusal();
    if (refused) return send(res, refused);
    const Transport = await transportClass();
    if (res.destroyed) return; // the client left while the module loaded
    const transport = new Transport(messagesPath, res);
    const id = transport.sessionId;
    const server = build();
    const session: SseSession = {
      kind: "sse",
      transport,
      server,
      owner: ownerOf(callerOf(req)),
      lastSeen: Date.now(),
      open: 0,
    };
    table.add(id, session);
    // Its answers (a long call's too) travel on the stream: while the stream is open the session is in use, as a 2025
    // session's GET stream is (sessions.ts); when it closes, the session ends.
    const release = table.hold(id);
    if (release) res.once("close", release);
    // Set before connect, which keeps it and calls it first; it runs once more when close() ends the stream.
    transport.onclose = () => table.delete(id);
    // Two copies of the core (2.3.1 in the frozen transport, ours): the Transport shape is the same, the nominal
    // types of its messages are not.
    await server.connect(transport as unknown as Transport);
    logger.debug({ sessions: table.size }, "MCP endpoint: legacy SSE session opened");
    // The socket closed before the transport listened for it: nothing else would end this session.
    if (res.destroyed) await server.close();
  }

  /** POST …/messages?sessionId=…: one message of a session's client, its body already read by the pipeline. */
  async post(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const id = new URL(req.url ?? "/", "http://localhost").searchParams.get("sessionId");
    if (!id) return send(res, respond(400, jsonRpcError(-32000, "Bad Request: the sessionId parameter is required")));
    const session = this.#options.table.use<SseSession>(id, "sse", callerOf(req));
    if (!session) {
      return send(
        res,
        respond(404, jsonRpcError(-32001, "Session not found: open a new one with GET on the SSE path")),
      );
    }
    // The frozen transport answers a body that is no JSON-RPC message with text ("Invalid message: [object Object]").
    if (!isJSONRPCRequest(body) && !isJSONRPCNotification(body) && !isJSONRPCResponse(body)) {
      return send(res, respond(400, jsonRpcError(-32600, "Invalid Request: the body is not one JSON-RPC message")));
    }
    // The pipeline read and decoded the body (any JSON media type and charset it accepts); the transport, given
    // the parsed body, still insists on the exact type application/json before it takes it.
    req.headers["content-type"] = "application/json";
    await session.transport.handlePostMessage(req, res, body);
  }
}

/**
 * The frozen transport brings its own copy of the protocol core (2.3.1): loading it costs about 200 ms at startup
 * (measured: `import()` of the module after @modelcontextprotocol/server, 210-250 ms on this machine), which only a
 * deployment with old clients should pay.
 */
function transportClass(): Promise<typeof SSEServerTransport> {
  transportModule ??= import("@modelcontextprotocol/server-legacy/sse");
  return transportModule.then((module) => module.SSEServerTransport);
}

/** Writes a web Response (an HTTP-level refusal) to a Node response. */
async function send(res: ServerResponse, response: Response): Promise<void> {
  const text = await response.text();
  res.writeHead(response.status, Object.fromEntries(response.headers)).end(text);
}
