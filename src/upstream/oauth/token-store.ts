import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StoredOAuthClientInformation, StoredOAuthTokens } from "@modelcontextprotocol/client";

/** Tokens as kept on disk: what the authorization server gave, plus when the access token expires. */
export type KeptTokens = StoredOAuthTokens & {
  /** Unix time in milliseconds, from `expires_in` at the time they were saved; absent when not given. */
  expires_at?: number;
};

/** A step-up the running proxy could not do alone (a 403 insufficient_scope needing a human). */
export interface PendingStepUp {
  /** The scope to ask for: the union of what is held and what the server wants. */
  scope?: string;
  resourceMetadataUrl?: string;
  /** Step-up logins done in a row (`mcpo auth` counts them); past MAX_STEP_UP_LOGINS the proxy answers 403. */
  attempts: number;
  /** Set by `mcpo auth` once it logged in with this scope; the proxy asks again only if the server still wants more. */
  done?: boolean;
}

/** One file's content: everything kept for one server and resource. */
export interface StoreContent {
  version: 1;
  /** The resource (the server URL) the tokens are for: a file is never used for another. */
  resource: string;
  tokens?: KeptTokens;
  /** Dynamically registered clients, by authorization server issuer. */
  clients?: Record<string, StoredOAuthClientInformation>;
  pending?: PendingStepUp;
}

/**
 * Milliseconds before expiry at which an access token is no longer used (refreshed instead); for a short-lived
 * token, a tenth of its lifetime (a token living 30 s or less would otherwise count as expired on arrival).
 */
export const EXPIRY_MARGIN_MS = 30_000;

/**
 * The token store of one server and resource: a JSON file, mode 0600, in a directory of mode 0700, written
 * atomically (a temporary file renamed over it), and read again whenever it changed on disk, so that a running
 * proxy sees what `mcpo auth` wrote. Nothing here logs: the content is secret.
 */
export class TokenStore {
  readonly file: string;
  #cache: { signature: string; content: StoreContent } | undefined;

  constructor(
    readonly dir: string,
    serverName: string,
    readonly resource: string,
  ) {
    const hash = createHash("sha256").update(resource).digest("hex").slice(0, 16);
    const safe = (serverName || "default").replace(/[^A-Za-z0-9_-]/g, "_");
    this.file = join(dir, `${safe}-${hash}.json`);
  }

  /** What identifies the file's current version (inode, size, mtime); "" when there is none. */
  signature(): string {
    try {
      const stat = statSync(this.file);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return "";
    }
  }

  /** The current content (re-read when the file changed); an empty store when there is no file or it is unreadable. */
  read(): StoreContent {
    const signature = this.signature();
    if (this.#cache?.signature === signature) return this.#cache.content;
    let content: StoreContent = { version: 1, resource: this.resource };
    if (signature !== "") {
      try {
        const parsed = JSON.parse(readFileSync(this.file, "utf8")) as Partial<StoreContent>;
        // A file for another resource (a hash collision, or copied by hand) is not used.
        if (parsed.version === 1 && parsed.resource === this.resource) content = parsed as StoreContent;
      } catch {
        // Unreadable or half-written by hand: treated as empty (a login writes it again).
      }
    }
    this.#cache = { signature, content };
    return content;
  }

  /** Applies `change` to the latest content and writes the result atomically. */
  update(change: (content: StoreContent) => StoreContent): void {
    this.write(change(structuredClone(this.read())));
  }

  write(content: StoreContent): void {
    ensurePrivateDir(this.dir);
    const temporary = `${this.file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      renameSync(temporary, this.file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    this.#cache = { signature: this.signature(), content };
  }

  /** Removes the file (everything for this server and resource). */
  clear(): void {
    rmSync(this.file, { force: true });
    this.#cache = undefined;
  }

  /**
   * Resolves once the file's signature differs from `since`, or after `maxMs`, or when `signal` aborts. Polls
   * (fs.watch misses renames on some file systems); a stat every `everyMs` is cheap.
   */
  waitForChange(since: string, maxMs: number, signal: AbortSignal, everyMs = 250): Promise<void> {
    return new Promise((resolve) => {
      const deadline = Date.now() + maxMs;
      const done = (): void => {
        clearInterval(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setInterval(() => {
        if (this.signature() !== since || Date.now() >= deadline) done();
      }, everyMs);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });
  }
}

/** Tokens with their expiry made absolute. */
export function keep(tokens: StoredOAuthTokens, now = Date.now()): KeptTokens {
  const { expires_at: _ignored, ...rest } = tokens as KeptTokens;
  return typeof tokens.expires_in === "number" ? { ...rest, expires_at: now + tokens.expires_in * 1000 } : rest;
}

/** Whether the access token is expired, or about to be (within EXPIRY_MARGIN_MS, or a tenth of its lifetime). */
export function isExpiring(tokens: KeptTokens, now = Date.now()): boolean {
  if (tokens.expires_at === undefined) return false;
  const lifetimeMs = typeof tokens.expires_in === "number" ? tokens.expires_in * 1000 : Infinity;
  return now >= tokens.expires_at - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 10);
}

/** Creates the directory (and its parents) and makes it 0700 whatever umask or an earlier run left. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
