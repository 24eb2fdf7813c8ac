import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { EVERYTHING_ENTRY, EVERYTHING_STDIO } from "../helpers/everything.js";
import { proxyContract } from "./contract.js";

proxyContract("stdio", {
  cli: async () => ({ options: [], target: EVERYTHING_STDIO }),
  directTransport: () => new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_ENTRY, "stdio"] }),
});
