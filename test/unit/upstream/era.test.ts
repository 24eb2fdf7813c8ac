import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConnectionSettings } from "../../../src/config/schema.js";
import {
  incompatibleHint,
  initialVerdict,
  missedProbe,
  negotiationFor,
  offeredRevisions,
  OUR_REVISIONS,
} from "../../../src/upstream/era.js";

const settings = (protocol: string, connection_timeout = 30) =>
  resolveConnectionSettings({ protocol, connection_timeout });

describe("era settings", () => {
  it("maps protocol to the SDK's version negotiation, the probe bounded by 10 s or half the connection timeout", () => {
    assert.deepEqual(negotiationFor(settings("auto")), { mode: "auto", probe: { timeoutMs: 10_000 } });
    assert.deepEqual(negotiationFor(settings("auto", 2)), { mode: "auto", probe: { timeoutMs: 1000 } });
    assert.deepEqual(negotiationFor(settings("legacy")), { mode: "legacy" });
    assert.deepEqual(negotiationFor(settings("2026-07-28")), {
      mode: { pin: "2026-07-28" },
      probe: { timeoutMs: 10_000 },
    });
  });

  it("names the setting to change when the upstream is incompatible", () => {
    assert.match(incompatibleHint(settings("legacy")), /protocol is legacy .*set protocol to auto/);
    assert.match(incompatibleHint(settings("2026-07-28")), /pinned to 2026-07-28: set protocol to auto/);
    assert.match(incompatibleHint(settings("auto")), /we speak 2026-07-28, 2025-11-25/);
  });

  it("takes a refusal naming a revision we speak, under auto, for a missed probe rather than incompatibility", () => {
    assert.equal(missedProbe(settings("auto"), ["2026-07-28"]), true);
    assert.equal(missedProbe(settings("auto"), ["2027-01-01"]), false);
    assert.equal(missedProbe(settings("auto"), undefined), false);
    assert.equal(missedProbe(settings("legacy"), ["2026-07-28"]), false, "legacy does not offer 2026-07-28");
    assert.equal(missedProbe(settings("2026-07-28"), ["2026-07-28"]), false);
  });

  it("names the revisions each setting offers", () => {
    assert.deepEqual(offeredRevisions(settings("2026-07-28")), ["2026-07-28"]);
    assert.ok(!offeredRevisions(settings("legacy")).includes("2026-07-28"));
    assert.ok(offeredRevisions(settings("legacy")).includes("2025-11-25"));
    assert.deepEqual(offeredRevisions(settings("auto")), OUR_REVISIONS);
  });

  it("speaks 2026-07-28 and the 2025 revisions", () => {
    assert.equal(OUR_REVISIONS[0], "2026-07-28");
    assert.ok(OUR_REVISIONS.includes("2025-11-25") && OUR_REVISIONS.includes("2024-11-05"));
  });

  it("knows legacy SSE is 2025-only before any probe", () => {
    const transport = (type: "sse" | "streamable-http") => ({ type, url: "http://h/x", headers: {} });
    assert.deepEqual(initialVerdict(transport("sse")), { kind: "legacy" });
    assert.equal(initialVerdict(transport("streamable-http")), undefined);
  });
});
