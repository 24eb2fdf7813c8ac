import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startEverything, type RemoteServer } from "../helpers/everything.js";
import { proxyContract } from "./contract.js";

let upstream: RemoteServer | undefined;

proxyContract("Streamable HTTP", {
  cli: async () => {
    upstream = await startEverything("streamableHttp");
    // "streamable_http" is one of the accepted spellings.
    return { options: ["--type", "streamable_http"], target: [upstream.url] };
  },
  directTransport: () => new StreamableHTTPClientTransport(new URL(upstream!.url)),
  teardown: async () => upstream?.stop(),
});
