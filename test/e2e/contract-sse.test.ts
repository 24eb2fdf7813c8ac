import { SSEClientTransport } from "@modelcontextprotocol/client";
import { EVERYTHING_INFO, startEverything, type RemoteServer } from "../helpers/everything.js";
import { proxyContract } from "./contract.js";

let upstream: RemoteServer | undefined;

proxyContract("legacy SSE", {
  cli: async () => {
    upstream = await startEverything("sse");
    return { options: ["--server-type", "sse"], target: [upstream.url] };
  },
  directTransport: () => new SSEClientTransport(new URL(upstream!.url)),
  serverInfo: EVERYTHING_INFO,
  expectEra: "legacy",
  teardown: async () => upstream?.stop(),
});
