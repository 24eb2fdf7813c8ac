import { EVERYTHING_INFO, EVERYTHING_STDIO } from "../helpers/everything.js";
import { v2Transport } from "../helpers/v2-client.js";
import { proxyContract } from "./contract.js";

proxyContract("stdio", {
  cli: async () => ({ options: [], target: EVERYTHING_STDIO }),
  directTransport: () => v2Transport({ stdio: EVERYTHING_STDIO }),
  serverInfo: EVERYTHING_INFO,
  expectEra: "legacy",
});
