import { createRequire } from "node:module";

/** Our own version, from package.json (sent as clientInfo to upstreams). */
export const PACKAGE_VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;
