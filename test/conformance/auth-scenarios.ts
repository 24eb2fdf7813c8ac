import assert from "node:assert/strict";
import type { Answer, Proxy } from "../helpers/proxy.js";

/**
 * What a REST user does in the `auth/*` scenarios: what the SDK's own conformance client does, through the
 * proxy. Most list the tools and call `test-tool`; the machine grants (client credentials, cross-app access)
 * only list the tools. A 503 `login_required` answer (a step-up the proxy cannot grant alone) goes to `relogin`,
 * which plays the human and says whether to try again.
 */
export interface AuthApi {
  /** POST /{tool}; the answer, after any logins it took. */
  call(tool: string, args: unknown): Promise<Answer>;
  /** GET /openapi.json, which must answer 200. */
  tools(): Promise<string[]>;
}

export type AuthScenario = (api: AuthApi) => Promise<void>;

const listAndCall: AuthScenario = async (api) => {
  const tools = await api.tools();
  assert.ok(tools.includes("test-tool"), `test-tool is not served (tools: ${tools.join(", ") || "none"})`);
  const answer = await api.call("test-tool", {});
  assert.equal(answer.status, 200, `POST /test-tool answered ${answer.status}: ${answer.text}`);
};

const listOnly: AuthScenario = async (api) => {
  await api.tools();
};

export const AUTH_SCENARIOS: Readonly<Record<string, AuthScenario>> = {
  default: listAndCall,
  "auth/client-credentials-jwt": listOnly,
  "auth/client-credentials-basic": listOnly,
  "auth/cross-app-access-complete-flow": listOnly,
  "auth/enterprise-managed-authorization": listOnly,
};

export function isLoginRequired(answer: Answer): boolean {
  return (
    answer.status === 503 &&
    (answer.body as { detail?: { code?: string } } | undefined)?.detail?.code === "login_required"
  );
}

export async function runAuthScenario(
  scenario: AuthScenario,
  proxy: Proxy,
  relogin: (answer: Answer) => Promise<boolean>,
): Promise<void> {
  const withLogins = async (request: () => Promise<Answer>): Promise<Answer> => {
    for (;;) {
      const answer = await request();
      if (!(await relogin(answer))) return answer;
    }
  };
  await scenario({
    call: (tool, args) => withLogins(() => proxy.post(`/${encodeURIComponent(tool)}`, args)),
    async tools() {
      const answer = await withLogins(() => proxy.get("/openapi.json"));
      assert.equal(answer.status, 200, `GET /openapi.json answered ${answer.status}: ${answer.text}`);
      return Object.keys((answer.body as { paths: Record<string, unknown> }).paths).map((path) =>
        decodeURIComponent(path.slice(1)),
      );
    },
  });
}
