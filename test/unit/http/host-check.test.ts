import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHostCheck, hostnameOf, isLoopbackHost } from "../../../src/http/host-check.js";

describe("createHostCheck", () => {
  it("on loopback, accepts only the loopback names, any port, ignoring case", () => {
    const check = createHostCheck({ host: "127.0.0.1" })!;
    for (const host of ["localhost", "localhost:8000", "127.0.0.1:1", "[::1]:8000", "LocalHost:9", undefined]) {
      assert.equal(check(host), true, String(host));
    }
    for (const host of ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.2", "[::2]:1"]) {
      assert.equal(check(host), false, host);
    }
  });

  it("is off when not on loopback, or when * is allowed", () => {
    assert.equal(createHostCheck({ host: "0.0.0.0" }), undefined);
    assert.equal(createHostCheck({ host: "localhost", allowedHosts: ["*"] }), undefined);
  });

  it("uses --allowed-hosts when given, on any address", () => {
    const check = createHostCheck({ host: "0.0.0.0", allowedHosts: ["mcpo.internal"] })!;
    assert.equal(check("mcpo.internal:443"), true);
    assert.equal(check("localhost"), false);
  });

  it("never remembers a refused host as accepted", () => {
    const check = createHostCheck({ host: "::1" })!;
    for (let i = 0; i < 3; i++) assert.equal(check("evil.example"), false);
  });
});

describe("hostnameOf and isLoopbackHost", () => {
  it("strips the port, keeping IPv6 brackets", () => {
    assert.equal(hostnameOf("localhost:8000"), "localhost");
    assert.equal(hostnameOf("[::1]:8000"), "[::1]");
    assert.equal(hostnameOf("example"), "example");
  });

  it("knows the loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert.ok(isLoopbackHost(host), host);
    for (const host of ["0.0.0.0", "::", "192.168.1.1", "localhost.example"]) assert.ok(!isLoopbackHost(host), host);
  });
});
