/**
 * Plays the human in `mcpo auth`: runs the real CLI, reads the authorization URL
 * it prints (one line holding the URL alone), opens it as a browser would (the
 * fixture authorization server redirects at once), and delivers the redirect to
 * the CLI's loopback listener.
 */
import { once } from "node:events";
import { run, type Running } from "./processes.js";
import { CLI } from "./proxy.js";
import { waitFor } from "./wait.js";

export interface LoginResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The URL `mcpo auth` printed (absent when it ended without printing one). */
  authorizeUrl?: URL;
  /** Where the authorization server sent the browser back (the loopback callback), as delivered. */
  callbackUrl?: URL;
  /** What the loopback listener answered the browser. */
  callback?: { status: number; text: string };
  /** Why the browser part stopped early: the authorization server did not redirect, say. */
  browserError?: string;
}

export interface LoginOptions {
  /** Changes the redirect before the browser follows it (a forged `state`, say). */
  tamper?: (callback: URL) => URL;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the process to end after the callback. Default 30 s. */
  exitTimeoutMs?: number;
}

/** A line of stdout holding one URL alone. */
const URL_LINE = /^(https?:\/\/\S+)$/m;

/** Runs `mcpo auth <args>` from dist. */
export function startLogin(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  return run(process.execPath, [CLI, "auth", ...args], env);
}

/** The exit code once the process ends (null after a signal); fails after `timeoutMs`. */
export async function exitOf(running: Running, timeoutMs = 30_000): Promise<number | null> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`mcpo auth still running after ${timeoutMs} ms: ${running.stderr()}`)),
      timeoutMs,
    );
  });
  try {
    const [code] = (await Promise.race([once(child, "exit"), timeout])) as [number | null];
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** The line of stdout that is one URL alone (what a script reads); fails if the process ends first. */
export async function printedUrl(running: Running, timeoutMs = 20_000): Promise<URL> {
  const line = await waitFor(
    "mcpo auth to print the authorization URL",
    () => {
      const found = URL_LINE.exec(running.stdout())?.[1];
      if (found) return found;
      if (running.child.exitCode !== null) {
        throw new Error(`mcpo auth exited ${running.child.exitCode}: ${running.stdout()}${running.stderr()}`);
      }
      return undefined;
    },
    timeoutMs,
  );
  return new URL(line);
}

/** Opens the authorization URL without following redirects; returns where the server sends the browser. */
export async function approve(url: URL): Promise<URL> {
  const answer = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  const location = answer.headers.get("location");
  if (answer.status !== 302 || !location) {
    throw new Error(`the authorization server answered ${answer.status}: ${await answer.text()}`);
  }
  return new URL(location);
}

/** Follows the redirect to the loopback listener, as the browser would. */
export async function deliver(callback: URL): Promise<{ status: number; text: string }> {
  const answer = await fetch(callback, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  return { status: answer.status, text: await answer.text() };
}

/** The whole human part of a login: run, open the URL, deliver the redirect, wait for the exit. */
export async function logIn(args: string[], options: LoginOptions = {}): Promise<LoginResult> {
  const running = startLogin(args, options.env);
  const result = (extra: Partial<LoginResult>, code: number | null): LoginResult => ({
    code,
    stdout: running.stdout(),
    stderr: running.stderr(),
    ...extra,
  });
  try {
    // Either a URL to open, or the end (a refusal before any browser is involved).
    const first = await waitFor("mcpo auth to print a URL or exit", () =>
      URL_LINE.test(running.stdout()) ? "url" : running.child.exitCode !== null ? "exit" : undefined,
    );
    if (first === "exit") return result({}, await exitOf(running));
    const authorizeUrl = await printedUrl(running);
    let redirect: URL;
    try {
      redirect = await approve(authorizeUrl);
    } catch (error) {
      return result({ authorizeUrl, browserError: String(error) }, await exitOf(running, options.exitTimeoutMs));
    }
    const callbackUrl = options.tamper ? options.tamper(new URL(redirect)) : redirect;
    const callback = await deliver(callbackUrl);
    return result({ authorizeUrl, callbackUrl, callback }, await exitOf(running, options.exitTimeoutMs));
  } finally {
    await running.stop("SIGKILL");
  }
}
