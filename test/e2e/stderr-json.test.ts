import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startEverything } from "../helpers/everything.js";
import { stopAll } from "../helpers/processes.js";
import { startProxy, waitForHealth } from "../helpers/proxy.js";

describe("stderr under load", () => {
  after(stopAll);

  it("holds nothing but JSON log lines after thousands of Streamable HTTP calls", async () => {
    const upstream = await startEverything("streamableHttp");
    const proxy = await startProxy(["--type", "streamable-http"], [upstream.url]);
    await waitForHealth(proxy, 200);
    // Past undici's 1500 abort listeners on the transport's one signal (see transports/remote.ts).
    let calls = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (calls < 2500) {
          calls++;
          assert.equal((await proxy.post("/echo", { message: "x" })).status, 200);
        }
      }),
    );
    const notJson = proxy.process
      .stderr()
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("{"));
    assert.deepEqual(notJson.slice(0, 3), [], `${notJson.length} lines that are not JSON`);
    // Node's warnings are logged as JSON (cli/main.ts), and this one must not happen at all.
    const warnings = proxy.logs().filter((line) => line.warning !== undefined);
    assert.deepEqual(warnings.slice(0, 1), [], `${warnings.length} process warnings`);
    await proxy.stop();
  });
});
