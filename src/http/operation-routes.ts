import type { IncomingMessage } from "node:http";
import accepts from "accepts";
import express, { type Request, type Response, type Router } from "express";
import { InvalidArgumentsError, ItemNotFoundError, type ValidationProblem } from "../errors/index.js";
import {
  NO_OFFERINGS,
  OPERATIONS,
  type CallOptions,
  type Prompt,
  type ReadResourceResult,
  type RequestSender,
} from "../upstream/index.js";
import { readJsonBody } from "./json-body.js";
import { sendUpstreamBytes } from "./upstream-bytes.js";
import { requestedTimeoutMs, TOOL_TIMEOUT_HEADER, watchCaller, type ToolTarget } from "./tool-handler.js";

export interface OperationRoutesOptions {
  server: ToolTarget;
  /** Largest request body accepted (--max-body-bytes), as for a tool call. */
  maxBodyBytes: number;
}

/**
 * A mount's resource and prompt routes: list resources, templates and prompts (one page each, `?cursor=` for the
 * next), read a resource (GET with `?uri=`, or POST with `{"uri"}` for clients that call tools with a JSON body),
 * get a prompt (POST with its arguments as the body, or GET with them in the query). The pipeline checked them as
 * tool calls (origin, key, allow-list: pipeline.ts); each request goes upstream as a call does (admitted, bounded by
 * the tool timeout or a shorter X-Tool-Timeout, cancelled when the caller goes away, its errors mapped), on the
 * caller's own session when the server forwards identities.
 */
export function createOperationRoutes(options: OperationRoutesOptions): Router {
  const { server, maxBodyBytes } = options;
  const router = express.Router({ strict: false });

  router.get("/resources", async function listResources(req, res) {
    offered(server, "resources");
    send(res, await run(req, res, server, "resources/list", OPERATIONS.listResources(cursorOf(req))));
  });
  router.get("/resources/templates", async function listResourceTemplates(req, res) {
    offered(server, "resources");
    send(res, await run(req, res, server, "resources/templates/list", OPERATIONS.listResourceTemplates(cursorOf(req))));
  });
  router.get("/resources/read", async function readResourceByQuery(req, res) {
    offered(server, "resources");
    await readResource(req, res, uriOf(req.query.uri, "query"));
  });
  router.post("/resources/read", async function readResourceByBody(req, res) {
    offered(server, "resources");
    const body = await readJsonBody(req, maxBodyBytes);
    if (!isPlainObject(body)) throw invalid("The body must be a JSON object", ["body"], "Input should be an object");
    const extra = Object.keys(body).filter((key) => key !== "uri");
    if (extra.length > 0) {
      throw new InvalidArgumentsError(
        "Invalid body for resources/read",
        extra.map((key) => ({ loc: ["body", key], msg: "Extra inputs are not permitted", type: "extra_forbidden" })),
      );
    }
    await readResource(req, res, uriOf(body.uri, "body"));
  });

  router.get("/prompts", async function listPrompts(req, res) {
    offered(server, "prompts");
    send(res, await run(req, res, server, "prompts/list", OPERATIONS.listPrompts(cursorOf(req))));
  });
  router.post("/prompts/:name", async function getPromptByBody(req, res) {
    offered(server, "prompts");
    await getPrompt(req, res, String(req.params.name), await readJsonBody(req, maxBodyBytes), "body");
  });
  router.get("/prompts/:name", async function getPromptByQuery(req, res) {
    offered(server, "prompts");
    await getPrompt(req, res, String(req.params.name), req.query, "query");
  });

  async function readResource(req: Request, res: Response, uri: string): Promise<void> {
    const result = await run(req, res, server, `resource ${JSON.stringify(uri)}`, OPERATIONS.readResource(uri));
    if (res.writableEnded) return;
    const raw = rawAnswer(req, result);
    if (raw) return sendUpstreamBytes(res, raw.type, raw.bytes); // not express's set(): it adds a charset to text types
    res.vary("Accept"); // kept beside CORS's Vary: Origin
    send(res, { contents: result.contents });
  }

  async function getPrompt(
    req: Request,
    res: Response,
    name: string,
    input: unknown,
    where: "body" | "query",
  ): Promise<void> {
    const prompt = server.connection.offerings.promptList.find((candidate) => candidate.name === name);
    const args = promptArguments(name, prompt, input, where);
    const result = await run(req, res, server, `prompt ${JSON.stringify(name)}`, OPERATIONS.getPrompt(name, args));
    send(res, result);
  }

  return router;
}

/** 404 when the upstream's last session declared no resources (or prompts); unknown before the first, so tried. */
function offered(server: ToolTarget, kind: "resources" | "prompts"): void {
  const offerings = server.connection.offerings;
  if (offerings !== NO_OFFERINGS && !offerings[kind]) {
    throw new ItemNotFoundError(`${server.connection.who} offers no ${kind}`);
  }
}

/** Sends a request upstream as a tool call is sent (see tool-handler.ts): shared or the caller's own session. */
async function run<T>(
  req: Request,
  res: Response,
  server: ToolTarget,
  operation: string,
  sender: RequestSender<T>,
): Promise<T> {
  const caller = watchCaller(res);
  const requested = requestedTimeoutMs(req.headers[TOOL_TIMEOUT_HEADER]);
  const options: CallOptions = {
    controller: caller,
    ...(requested === undefined ? {} : { timeoutMs: Math.min(requested, server.connection.toolTimeoutMs) }),
  };
  const identity = server.forwarding?.identityOf(req.headers);
  return server.forwarding && identity
    ? server.forwarding.request(identity, operation, sender, options)
    : server.connection.request(operation, sender, options);
}

function send(res: Response, body: unknown): void {
  if (res.writableEnded) return; // answered meanwhile: shutdown's 503 when the grace period ran out
  res.set("Cache-Control", "no-store").json(body);
}

function cursorOf(req: Request): string | undefined {
  const cursor = req.query.cursor;
  if (cursor === undefined) return undefined;
  if (typeof cursor !== "string")
    throw invalid("Invalid cursor", ["query", "cursor"], "Input should be one string", "string_type");
  return cursor;
}

function uriOf(value: unknown, where: "body" | "query"): string {
  if (value === undefined) throw invalid("A resource URI is required", [where, "uri"], "Field required", "missing");
  if (typeof value !== "string") {
    throw invalid("The resource URI must be a string", [where, "uri"], "Input should be of type string", "string_type");
  }
  if (value === "") {
    throw invalid(
      "The resource URI is empty",
      [where, "uri"],
      "String should have at least 1 character",
      "string_too_short",
    );
  }
  return value;
}

/**
 * A prompt's arguments, checked against what the upstream listed for it: an object of strings (MCP prompt
 * arguments are strings), the required ones present, no others. A prompt not (yet) in the list is sent as asked:
 * the upstream knows it or answers 404.
 */
function promptArguments(
  name: string,
  prompt: Prompt | undefined,
  input: unknown,
  where: "body" | "query",
): Record<string, string> {
  if (!isPlainObject(input))
    throw invalid(`Invalid arguments for prompt "${name}"`, [where], "Input should be an object");
  const problems: ValidationProblem[] = [];
  const declared = prompt?.arguments;
  for (const [key, value] of Object.entries(input)) {
    if (declared && !declared.some((argument) => argument.name === key)) {
      problems.push({ loc: [where, key], msg: "Extra inputs are not permitted", type: "extra_forbidden" });
    } else if (typeof value !== "string") {
      problems.push({ loc: [where, key], msg: "Input should be of type string", type: "string_type" });
    }
  }
  for (const argument of declared ?? []) {
    if (argument.required && !(argument.name in input)) {
      problems.push({ loc: [where, argument.name], msg: "Field required", type: "missing" });
    }
  }
  if (problems.length > 0) throw new InvalidArgumentsError(`Invalid arguments for prompt "${name}"`, problems);
  return input as Record<string, string>;
}

/**
 * The one content item as its own bytes, when the caller asks for its media type by name (`text/plain`) or by
 * range (`text/*`), and prefers it to JSON; undefined for the JSON answer (also for a JSON resource: asking for
 * `application/json` gets the JSON answer, which holds it).
 */
function rawAnswer(req: IncomingMessage, result: ReadResourceResult): { type: string; bytes: Buffer } | undefined {
  if (result.contents.length !== 1 || req.headers.accept === undefined) return undefined;
  const item = result.contents[0]!;
  const mimeType = item.mimeType;
  if (!mimeType) return undefined;
  const media = mimeType.split(";")[0]!.trim().toLowerCase();
  if (media === "application/json" || !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(media)) return undefined;
  // JSON first: `*/*` (and no preference) chooses it; only a range that names the item's type chooses the bytes.
  if (accepts(req).type(["application/json", media]) !== media) return undefined;
  // The upstream's parameters kept when they are plain header text (a charset for a blob of text).
  const type = /^[\x20-\x7e]*$/.test(mimeType) ? mimeType : media;
  if ("blob" in item && typeof item.blob === "string") return { type, bytes: Buffer.from(item.blob, "base64") };
  // Text travels as a JSON string: its bytes are UTF-8, whatever charset the upstream named.
  const text = "text" in item && typeof item.text === "string" ? item.text : "";
  return { type: `${media}; charset=utf-8`, bytes: Buffer.from(text) };
}

function invalid(message: string, loc: (string | number)[], msg: string, type = "model_type"): InvalidArgumentsError {
  return new InvalidArgumentsError(message, [{ loc, msg, type }]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
