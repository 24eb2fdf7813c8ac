import type { FixtureHttp } from "../fixtures/index.js";
import { startV2Http, V2_ERA_MODES, V2_SERVER_INFO } from "../fixtures/v2/index.js";
import { v2Transport } from "../helpers/v2-client.js";
import { proxyContract } from "./contract.js";

// The proxy's default protocol choice (auto) must land on 2026-07-28 with both a
// modern-only server and one that also speaks 2025.
for (const era of V2_ERA_MODES) {
  let upstream: FixtureHttp | undefined;
  proxyContract(`Streamable HTTP, v2 fixture (${era})`, {
    cli: async () => {
      upstream = await startV2Http({ era });
      return { options: ["--server-type", "streamable-http"], target: [upstream.url] };
    },
    directTransport: () => v2Transport({ url: upstream!.url }),
    serverInfo: V2_SERVER_INFO,
    expectEra: "modern",
    teardown: async () => void (await upstream?.stop()),
  });
}
