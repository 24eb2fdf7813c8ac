import { EVERYTHING_INFO, startEverything, type RemoteServer } from "../helpers/everything.js";
import { v2Transport } from "../helpers/v2-client.js";
import { proxyContract } from "./contract.js";

let upstream: RemoteServer | undefined;

proxyContract("Streamable HTTP", {
  cli: async () => {
    upstream = await startEverything("streamableHttp");
    // "streamable_http" is one of the accepted spellings.
    return { options: ["--type", "streamable_http"], target: [upstream.url] };
  },
  directTransport: () => v2Transport({ url: upstream!.url }),
  serverInfo: EVERYTHING_INFO,
  expectEra: "legacy",
  teardown: async () => upstream?.stop(),
});
