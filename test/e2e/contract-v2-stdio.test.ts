import { V2_ERA_MODES, V2_SERVER_INFO, V2_STDIO } from "../fixtures/v2/index.js";
import { v2Transport } from "../helpers/v2-client.js";
import { proxyContract } from "./contract.js";

// The proxy's default protocol choice (auto) must land on 2026-07-28 with both a
// modern-only server and one that also speaks 2025.
for (const era of V2_ERA_MODES) {
  proxyContract(`stdio, v2 fixture (${era})`, {
    cli: async () => ({ options: [], target: [...V2_STDIO[era]] }),
    directTransport: () => v2Transport({ stdio: V2_STDIO[era] }),
    serverInfo: V2_SERVER_INFO,
    expectEra: "modern",
  });
}
