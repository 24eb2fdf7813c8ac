/**
 * The OAuth side of the adapter: how each `auth/*` scenario's MCP_CONFORMANCE_CONTEXT becomes proxy flags
 * (secrets in files, never on a command line), and the human of an authorization-code login: run `mcpo auth`,
 * open the URL it prints (a fetch with redirect "manual", as the suite's authorization server redirects at once),
 * and follow the Location to the loopback callback.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI } from "../helpers/proxy.js";
import { run } from "../helpers/processes.js";

/** The context fields of the auth scenarios (see the SDK's test/conformance/src/everythingClient.ts). */
export interface AuthContext {
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
  idp_client_id?: string;
  idp_id_token?: string;
  idp_issuer?: string;
  idp_token_endpoint?: string;
}

/** The Client ID Metadata Document URL the suite's CIMD scenarios expect (as the SDK's conformance client). */
export const CIMD_URL = "https://conformance-test.local/client-metadata.json";

export interface OAuthSetup {
  /** Proxy and `mcpo auth` flags (before `--`). */
  flags: string[];
  /** Authorization code: a human logs in with `mcpo auth` first. */
  needsHuman: boolean;
  /** Every token and secret this scenario holds (its context and what the token store has), to look for in logs. */
  secrets(): string[];
  cleanup(): void;
}

const MACHINE = new Set(["auth/client-credentials-jwt", "auth/client-credentials-basic"]);
const CROSS_APP = new Set(["auth/cross-app-access-complete-flow", "auth/enterprise-managed-authorization"]);

export function oauthSetup(scenario: string, context: AuthContext): OAuthSetup {
  const dir = mkdtempSync(join(tmpdir(), "mcpo-conformance-oauth-"));
  const secretFile = (name: string, value: string): string => {
    const path = join(dir, name);
    writeFileSync(path, value, { mode: 0o600 });
    return path;
  };
  // Scenarios run side by side: any free port for the redirect.
  const flags = ["--oauth", "--token-dir", join(dir, "tokens"), "--oauth-redirect-port", "0"];
  if (context.client_id) flags.push("--oauth-client-id", context.client_id);
  if (context.client_secret)
    flags.push("--oauth-client-secret-file", secretFile("client-secret", context.client_secret));
  if (CROSS_APP.has(scenario)) {
    flags.push(
      "--oauth-grant",
      "cross_app_access",
      "--oauth-idp-token-endpoint",
      context.idp_token_endpoint ?? "",
      "--oauth-idp-client-id",
      context.idp_client_id ?? "",
      "--oauth-idp-id-token-file",
      secretFile("id-token", context.idp_id_token ?? ""),
    );
  } else if (MACHINE.has(scenario)) {
    flags.push("--oauth-grant", "client_credentials");
    if (context.private_key_pem) {
      flags.push(
        "--oauth-token-auth-method",
        "private_key_jwt",
        "--oauth-private-key-file",
        secretFile("key.pem", context.private_key_pem),
        "--oauth-signing-algorithm",
        context.signing_algorithm ?? "ES256",
      );
    }
  } else if (!context.client_id) {
    // As the SDK's own conformance client: the CIMD URL where the server supports it, else registration.
    flags.push("--oauth-client-metadata-url", CIMD_URL);
  }
  return {
    flags,
    needsHuman: !MACHINE.has(scenario) && !CROSS_APP.has(scenario),
    secrets: () => [
      ...[context.client_secret, context.private_key_pem, context.idp_id_token].filter((value): value is string =>
        Boolean(value),
      ),
      ...storedTokens(join(dir, "tokens")),
    ],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface LoginRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Plays the human once: `mcpo auth`, open its URL, follow the redirect to the callback; resolves with its exit. */
export async function playHuman(flags: string[], serverUrl: string, timeoutMs: number): Promise<LoginRun> {
  const login = run(process.execPath, [
    CLI,
    "auth",
    ...flags,
    "--server-type",
    "streamable-http",
    "--timeout",
    String(Math.ceil(timeoutMs / 1000)),
    "--",
    serverUrl,
  ]);
  const exited = new Promise<number | null>((resolve) => login.child.once("exit", (code) => resolve(code)));
  // Every line that is a URL is a login to complete (a second one when the server moved to another AS).
  let followed = 0;
  for (;;) {
    const url = await Promise.race([nextUrl(login, followed), exited.then(() => undefined)]);
    if (!url) break;
    followed++;
    if (!(await openAndReturn(url, timeoutMs))) {
      await login.stop();
      break;
    }
  }
  const code = await exited;
  return { code, stdout: login.stdout(), stderr: login.stderr() };
}

/** The `index`-th line of stdout that is a URL, once written. */
function nextUrl(login: ReturnType<typeof run>, index: number): Promise<string> {
  return new Promise((resolve) => {
    const look = (): void => {
      const lines = login
        .stdout()
        .split("\n")
        .slice(0, -1)
        .filter((line) => line.startsWith("http"));
      if (lines[index]) resolve(lines[index]);
      else if (login.child.exitCode === null) setTimeout(look, 20);
    };
    look();
  });
}

/** The browser: opens the authorization URL and follows its redirect back to the loopback callback. */
async function openAndReturn(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const answer = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const location = answer.headers.get("location");
    await answer.body?.cancel();
    if (!location) {
      // No redirect back (the server showed a page instead): nothing will reach the callback.
      process.stderr.write(`adapter: the authorization URL answered ${answer.status} without a Location\n`);
      return false;
    }
    const back = await fetch(new URL(location, url), { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await back.body?.cancel();
    return true;
  } catch (error) {
    process.stderr.write(`adapter: opening the authorization URL failed: ${String(error)}\n`);
    return false;
  }
}

/** The access and refresh tokens in a token folder (every file), however many logins wrote them. */
function storedTokens(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".json"));
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    const content = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      tokens?: { access_token?: string; refresh_token?: string };
    };
    return [content.tokens?.access_token, content.tokens?.refresh_token].filter((value): value is string =>
      Boolean(value),
    );
  });
}
