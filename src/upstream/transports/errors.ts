/**
 * The stdio server is not taking its input fast enough: the requests waiting for its pipe reached the bound. The
 * request was not sent (nothing of it reached the server), so the call can be tried again safely.
 */
export class UpstreamBusyError extends Error {
  override readonly name = "UpstreamBusyError";
  constructor(readonly bufferedChars: number) {
    super(`${formatSize(bufferedChars)} of requests are already waiting for the server to read its input`);
  }
}

/** A message that cannot be written as JSON (nested too deeply, a cycle, a BigInt): nothing was sent. */
export class UnencodableMessageError extends Error {
  override readonly name = "UnencodableMessageError";
  constructor(cause: unknown) {
    super(`the request cannot be encoded as JSON (${cause instanceof Error ? cause.message : String(cause)})`, {
      cause,
    });
  }
}

export function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MiB` : `${bytes} bytes`;
}
