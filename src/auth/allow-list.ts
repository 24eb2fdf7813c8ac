import type { AllowList } from "../config/schema.js";
import type { Identity } from "./identity.js";

/**
 * Whether a verified identity is on a server's allow-list: any list naming it is enough. `users` match the
 * subject or the email (emails compared ignoring case, as mail systems do); roles and groups match exactly.
 */
export function isAllowed(identity: Identity, allow: AllowList): boolean {
  const email = identity.email?.toLowerCase();
  return (
    allow.users.some((user) => user === identity.subject || (email !== undefined && user.toLowerCase() === email)) ||
    allow.roles.some((role) => identity.roles.includes(role)) ||
    allow.groups.some((group) => identity.groups.includes(group))
  );
}
