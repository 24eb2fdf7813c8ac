import type { CliOptions } from "../../src/cli/program.js";

/** Command-line options as commander gives them with no flags set, plus `extra`. */
export const cliOptions = (extra: Partial<CliOptions> = {}): CliOptions => ({
  host: "0.0.0.0",
  port: "8000",
  logLevel: "info",
  rootPath: "",
  pathPrefix: "/",
  env: [],
  corsAllowOrigins: [],
  ...extra,
});
