import type { IncomingMessage } from "node:http";
import { createGunzip, createInflate, type Gunzip, type Inflate } from "node:zlib";
import { rememberExactBody } from "../catalog/index.js";
import {
  BadRequestError,
  InvalidArgumentsError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from "../errors/index.js";
import { holdsExactInteger, mayHoldLongInteger, parseExact } from "../json/exact-integers.js";
import { scanJson } from "./json-scan.js";

/**
 * Deepest nesting of arrays and objects accepted in a request body. Tool
 * arguments rarely go past 10 levels; a body nested 100,000 levels deep
 * (200 KB) would overflow the stack of whatever walks it next (validation,
 * the SDK's JSON.stringify). Deeper bodies get 400 before they are parsed.
 */
export const MAX_BODY_DEPTH = 100;

/** Charsets a body may declare, as Buffer decodes them; utf-8 when none is named. */
const CHARSETS: Readonly<Record<string, BufferEncoding>> = {
  "utf-8": "utf8",
  utf8: "utf8",
  "iso-8859-1": "latin1",
  latin1: "latin1",
  "iso_8859-1": "latin1",
  l1: "latin1",
  "us-ascii": "latin1", // ASCII is latin1's first half; a byte above 127 is kept, not mangled
  ascii: "latin1",
  "utf-16le": "utf16le",
};

/**
 * Reads a tool call's JSON body; an empty body is `{}`.
 *
 * - Content-Type: `application/json`, any `<type>/<subtype>+json`, or none
 *   (`curl --data-binary` without `-H`); anything else is 415. A web page can
 *   send text/plain or a form across origins without a preflight: refusing
 *   them keeps other sites from running tools.
 * - charset: utf-8 (default), iso-8859-1/latin1, us-ascii, utf-16le; others
 *   415. A UTF-8 byte order mark is skipped.
 * - Content-Encoding: gzip or deflate are inflated as they arrive, the size
 *   limit applying to the inflated bytes (a zip bomb is cut off at the limit
 *   with 413); other encodings 415.
 * - Nesting deeper than MAX_BODY_DEPTH: 400. A number too large to be finite
 *   (`1e400`): 422 naming it. Integers beyond 2^53 are kept exact for the
 *   upstream (see rememberExactBody).
 *
 * The size limit is checked against Content-Length before reading and while
 * reading, so an oversized body is refused without being buffered.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  let encoding: BufferEncoding;
  let inflater: Gunzip | Inflate | undefined;
  try {
    encoding = charsetOf(req.headers["content-type"]);
    inflater = inflaterFor(req.headers["content-encoding"]);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  // Content-Length counts the encoded bytes: for an encoded body only the inflated size is checked.
  if (!inflater && Number(req.headers["content-length"]) > limitBytes) {
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const source = inflater ? req.pipe(inflater) : req;
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      source.off("data", onData);
      if (inflater) {
        req.unpipe(inflater);
        inflater.destroy();
      }
      req.resume(); // drain the rest unread; the answer goes out at once
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) return fail(new PayloadTooLargeError(limitBytes));
      chunks.push(chunk);
    };
    source.on("data", onData);
    req.once("error", (error) =>
      fail(new BadRequestError(`The request body could not be read: ${error.message}`, { cause: error })),
    );
    if (inflater) {
      inflater.once("error", (error) =>
        fail(new BadRequestError(`The request body could not be inflated: ${error.message}`, { cause: error })),
      );
    }
    source.once("end", () => {
      if (failed) return;
      try {
        resolve(parseBody((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString(encoding)));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Nothing but JSON whitespace (tested without copying the body, as trim() would). */
const BLANK = /^[ \t\n\r]*$/;

/** The body's text as the tool's arguments (see readJsonBody). */
export function parseBody(raw: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (BLANK.test(text)) return {};
  const scan = scanJson(text, MAX_BODY_DEPTH);
  if (scan.tooDeep) {
    throw new BadRequestError(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  // Only a number with an exponent or a long run of digits can be infinite or beyond 2^53.
  if (!scan.bigNumberSyntax) return value;
  const infinite = nonFinitePaths(value);
  if (infinite.length > 0) {
    throw new InvalidArgumentsError(
      "The request body holds a number too large to represent",
      infinite.map((path) => ({
        loc: ["body", ...path],
        msg: "Input should be a finite number",
        type: "finite_number",
      })),
    );
  }
  if (mayHoldLongInteger(text) && typeof value === "object" && value !== null) {
    const exact = parseExact(text);
    if (exact !== undefined && holdsExactInteger(exact)) rememberExactBody(value, exact);
  }
  return value;
}

/** The media type's charset as a Buffer encoding; 415 for a media type or charset we do not read. */
function charsetOf(contentType: string | undefined): BufferEncoding {
  // What nearly every caller sends, without splitting and lowering it.
  if (contentType === undefined || contentType === "application/json") return "utf8";
  if (contentType.trim() === "") return "utf8";
  const [media = "", ...parameters] = contentType.split(";");
  const type = media.trim().toLowerCase();
  if (type !== "application/json" && !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]*\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${JSON.stringify(type)} is not accepted: send application/json (or no Content-Type)`,
    );
  }
  for (const parameter of parameters) {
    const [name = "", value = ""] = parameter.split("=");
    if (name.trim().toLowerCase() !== "charset") continue;
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    const encoding = CHARSETS[charset];
    if (!encoding) {
      throw new UnsupportedMediaTypeError(
        `charset ${JSON.stringify(charset)} is not supported: send utf-8, iso-8859-1, us-ascii or utf-16le`,
      );
    }
    return encoding;
  }
  return "utf8";
}

/** A decompressor for the body's Content-Encoding; undefined for none; 415 for one we do not support. */
function inflaterFor(contentEncoding: string | undefined): Gunzip | Inflate | undefined {
  const coding = (contentEncoding ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return undefined;
  if (coding === "gzip" || coding === "x-gzip") return createGunzip();
  if (coding === "deflate") return createInflate();
  throw new UnsupportedMediaTypeError(
    `Content-Encoding ${JSON.stringify(coding)} is not supported: send gzip, deflate or no encoding`,
  );
}

/** Where `value` holds Infinity (what JSON.parse makes of 1e400), as loc paths. */
function nonFinitePaths(value: unknown): (string | number)[][] {
  if (!someNumber(value, (n) => !Number.isFinite(n))) return [];
  const found: (string | number)[][] = [];
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: value, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) found.push(path);
    } else if (typeof node === "object" && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        stack.push({ node: child, path: [...path, Array.isArray(node) ? Number(key) : key] });
      }
    }
  }
  return found.reverse();
}

/** Whether any number in `value` passes `test`: an iterative walk that allocates no paths. */
function someNumber(value: unknown, test: (n: number) => boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === "number") {
      if (test(node)) return true;
    } else if (typeof node === "object" && node !== null) {
      for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push(child);
    }
  }
  return false;
}
