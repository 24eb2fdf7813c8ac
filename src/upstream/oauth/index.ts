export { runLogin, LoginError, type LoginOptions, type LoginOutcome } from "./login.js";
export { UpstreamAuth } from "./upstream-auth.js";
