import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigFileError, parseConfigText } from "../../../src/config/load-config-file.js";
import { envProblems, headerProblems, moveUrlCredentials } from "../../../src/config/safe-values.js";

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;

function problemsOf(config: unknown): readonly string[] {
  try {
    parseConfigText(JSON.stringify(config), "config.json", { env: {}, cliSettings: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, String(error));
    return error.problems;
  }
  return assert.fail("the config was accepted");
}

describe("values fetch and spawn would refuse are refused at load, naming the key and never the value", () => {
  it("headers: CR, LF, NUL, a character past Latin-1, or a name that is not an HTTP token", () => {
    assert.deepEqual(headerProblems({ Authorization: "Bearer ok", "X-Latin": "caf\u00e9" }), []);
    assert.deepEqual(
      headerProblems({ A: "s\rs", B: "s\ns", C: "s\0s", D: "s\u20acs", E: "s\u{1f600}", "F G": "v", "": "v" }),
      [
        'the value of header "A" has a line break (CR or LF)',
        'the value of header "B" has a line break (CR or LF)',
        'the value of header "C" has a NUL character',
        'the value of header "D" has a character outside Latin-1 (fetch sends header values as bytes)',
        'the value of header "E" has a character outside Latin-1 (fetch sends header values as bytes)',
        '"F G" is not a valid header name (letters, digits and !#$%&\'*+-.^_`|~ only)',
        '"" is not a valid header name (letters, digits and !#$%&\'*+-.^_`|~ only)',
      ],
    );
  });

  it("env: a NUL in a value or a name, an empty name, or a name with =", () => {
    assert.deepEqual(envProblems({ OK: "any thing\nat all" }), []);
    assert.deepEqual(envProblems({ A: "s\0s", "B\0": "v", "C=D": "v", "": "v" }), [
      'the value of "A" has a NUL character',
      '"B\\u0000" is not a valid variable name (empty, or with "=" or NUL)',
      '"C=D" is not a valid variable name (empty, or with "=" or NUL)',
      '"" is not a valid variable name (empty, or with "=" or NUL)',
    ]);
  });

  it("config file: bad headers, auth_token and env values are listed by path, without the values", () => {
    const problems = problemsOf({
      mcpServers: {
        remote: { type: "streamable-http", url: "http://h/mcp", headers: { "X-Key": "secret\n" } },
        token: { url: "http://h/sse", auth_token: "secret\r" },
        local: { command: "x", env: { TOKEN: "secret\0" } },
      },
    });
    assert.deepEqual(problems, [
      'mcpServers.remote.headers: the value of header "X-Key" has a line break (CR or LF)',
      "mcpServers.token.auth_token: has a line break (CR or LF)",
      'mcpServers.local.env: the value of "TOKEN" has a NUL character',
    ]);
  });
});

describe("URL credentials become an Authorization: Basic header, as httpx sends them for Python mcpo", () => {
  it("moves percent-decoded user:password out of the URL into the header", () => {
    assert.deepEqual(moveUrlCredentials("https://us%40er:p%C3%A4ss@h:1/mcp?x=1", { "X-A": "b" }), {
      url: "https://h:1/mcp?x=1",
      headers: { Authorization: basic("us@er:päss"), "X-A": "b" },
    });
    assert.deepEqual(moveUrlCredentials("https://token@h/mcp", {}), {
      url: "https://h/mcp",
      headers: { Authorization: basic("token:") },
    });
    const plain = { url: "https://h/mcp", headers: { a: "b" } };
    assert.deepEqual(moveUrlCredentials(plain.url, plain.headers), plain);
  });

  it("in a config file; refused beside an Authorization header or auth_token (which one was meant?)", () => {
    const { servers } = parseConfigText(
      JSON.stringify({ mcpServers: { r: { type: "streamable-http", url: "http://user:secret@h/mcp" } } }),
      "config.json",
      { env: {}, cliSettings: {} },
    );
    assert.deepEqual(servers[0]?.transport, {
      type: "streamable-http",
      url: "http://h/mcp",
      headers: { Authorization: basic("user:secret") },
    });
    const conflict = "has credentials (user:password@) and an Authorization header is given too: keep one";
    assert.deepEqual(
      problemsOf({
        mcpServers: {
          a: { url: "http://user:secret@h/sse", headers: { authorization: "Bearer t" } },
          b: { url: "http://user:secret@h/sse", auth_token: "t" },
        },
      }),
      [`mcpServers.a.url: ${conflict}`, `mcpServers.b.url: ${conflict}`],
    );
  });
});
