import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAllowed, type Identity } from "../../../src/auth/index.js";
import { identityFromClaims } from "../../../src/auth/identity.js";

const ada: Identity = {
  subject: "u-1",
  email: "Ada@Example.com",
  roles: ["staff"],
  groups: ["eng"],
  source: "oidc",
};
const list = (users: string[] = [], roles: string[] = [], groups: string[] = []) => ({ users, roles, groups });

describe("allow-lists", () => {
  it("let in a caller named by subject or email (email ignoring case), role or group", () => {
    assert.equal(isAllowed(ada, list(["u-1"])), true);
    assert.equal(isAllowed(ada, list(["ada@example.com"])), true);
    assert.equal(isAllowed(ada, list([], ["staff"])), true);
    assert.equal(isAllowed(ada, list([], [], ["eng"])), true);
  });

  it("keep out a caller no list names; roles and groups match exactly", () => {
    assert.equal(isAllowed(ada, list(["u-2", "bob@example.com"], ["admin", "Staff"], ["ops"])), false);
    assert.equal(isAllowed({ ...ada, roles: [], groups: [] }, list([], ["staff"], ["eng"])), false);
  });
});

describe("identityFromClaims", () => {
  it("gathers roles from role, roles and realm_access.roles, without duplicates or non-strings", () => {
    const identity = identityFromClaims(
      { sub: "s", role: "user", roles: ["user", "tools", 3], realm_access: { roles: ["staff"] }, groups: "eng" },
      "oidc",
    );
    assert.deepEqual(identity?.roles, ["user", "tools", "staff"]);
    assert.deepEqual(identity?.groups, ["eng"]);
  });

  it("needs a subject: `sub`, or for Open WebUI its `id`", () => {
    assert.equal(identityFromClaims({ id: "u" }, "oidc"), undefined);
    assert.equal(identityFromClaims({ id: "u" }, "openwebui")?.subject, "u");
    assert.equal(identityFromClaims({ sub: "" }, "oidc"), undefined);
  });
});
