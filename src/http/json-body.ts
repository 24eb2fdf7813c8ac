import type { IncomingMessage } from "node:http";
import { BadRequestError, PayloadTooLargeError } from "../errors/index.js";

/**
 * Reads a JSON request body, whatever its content type (so `curl -d '{...}'`
 * works without a header); an empty body is `{}`. The size limit is checked
 * against Content-Length before reading and while reading, so an oversized
 * body is refused without being buffered.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (Number(req.headers["content-length"]) > limitBytes) return Promise.reject(new PayloadTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        req.off("data", onData);
        req.resume(); // drain the rest unread; the answer goes out at once
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("error", (error) =>
      reject(new BadRequestError(`The request body could not be read: ${error.message}`, { cause: error })),
    );
    req.once("end", () => {
      if (size > limitBytes) return;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8");
      if (text.trim() === "") return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch (error) {
        reject(
          new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`, { cause: error }),
        );
      }
    });
  });
}
