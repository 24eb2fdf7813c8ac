import type { ServerResponse } from "node:http";
import { stringifyJson } from "../json/exact-integers.js";

/**
 * A JSON answer written directly (express's res.json adds work neither a tool
 * result nor an error needs): the body, its length, and `headers` on top of
 * the JSON content type.
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = stringifyJson(body) ?? "null"; // integers beyond 2^53 in a result stay exact
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    ...headers,
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
