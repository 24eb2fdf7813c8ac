import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics } from "../../../src/telemetry/metrics.js";
import { outcomeOf } from "../../../src/telemetry/call-outcome.js";
import {
  InvalidArgumentsError,
  UpstreamIncompatibleError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "../../../src/errors/index.js";
import { parsePrometheus, valueOf } from "../../helpers/prometheus.js";

describe("Metrics", () => {
  it("shows one state per server, counts reconnects and errors, and reads the load when scraped", async () => {
    const metrics = new Metrics();
    let load = { inFlight: 2, queued: 1 };
    metrics.watchLoad("a", () => load);
    for (const state of ["connecting", "ready", "reconnecting", "ready", "down"]) metrics.upstreamState("a", state);
    metrics.upstreamEra("a", "legacy");
    metrics.upstreamEra("a", "modern");
    let samples = parsePrometheus(await metrics.text());
    assert.deepEqual(
      samples.filter((sample) => sample.name === "mcpo_upstream_state").map((sample) => sample.labels.state),
      ["down"],
    );
    assert.equal(valueOf(samples, "mcpo_upstream_up", { server: "a" }), 0);
    assert.equal(valueOf(samples, "mcpo_upstream_reconnects_total", { server: "a" }), 1);
    assert.equal(valueOf(samples, "mcpo_upstream_errors_total", { server: "a", kind: "lost" }), 1);
    assert.equal(valueOf(samples, "mcpo_upstream_errors_total", { server: "a", kind: "down" }), 1);
    assert.deepEqual(
      samples.filter((sample) => sample.name === "mcpo_upstream_era").map((sample) => sample.labels.era),
      ["modern"],
    );
    assert.equal(valueOf(samples, "mcpo_calls_in_flight", { server: "a" }), 2);
    load = { inFlight: 0, queued: 0 };
    samples = parsePrometheus(await metrics.text());
    assert.equal(valueOf(samples, "mcpo_calls_queued", { server: "a" }), 0);
  });

  it("drops every series of a removed server and keeps the others'", async () => {
    const metrics = new Metrics();
    for (const server of ["gone", "kept"]) {
      metrics.watchLoad(server, () => ({ inFlight: 0, queued: 0 }));
      metrics.upstreamState(server, "ready");
      metrics.upstreamState(server, "reconnecting");
      metrics.upstreamEra(server, "legacy");
      metrics.toolCall(server, "t", "ok", 0.2);
      metrics.toolCall(server, "u", "timeout", 300);
      metrics.badToolInput(server, "v");
    }
    metrics.removeServer("gone");
    const samples = parsePrometheus(await metrics.text());
    assert.deepEqual(
      samples.filter((sample) => sample.labels.server === "gone"),
      [],
    );
    const kept = new Set(samples.filter((sample) => sample.labels.server === "kept").map((sample) => sample.name));
    for (const name of [
      "mcpo_tool_calls_total",
      "mcpo_tool_call_duration_seconds_bucket",
      "mcpo_calls_in_flight",
      "mcpo_calls_queued",
      "mcpo_upstream_up",
      "mcpo_upstream_state",
      "mcpo_upstream_reconnects_total",
      "mcpo_upstream_errors_total",
      "mcpo_upstream_era",
    ]) {
      assert.ok(kept.has(name), name);
    }
  });

  it("keeps two proxies' registries apart", async () => {
    const one = new Metrics();
    const two = new Metrics();
    one.httpRequest("tool", "POST", 200, 0.01);
    assert.equal(valueOf(parsePrometheus(await one.text()), "mcpo_http_requests_total", { route: "tool" }), 1);
    assert.equal(valueOf(parsePrometheus(await two.text()), "mcpo_http_requests_total", { route: "tool" }), undefined);
  });

  it("names a failed call's outcome from its error", () => {
    assert.equal(outcomeOf(new InvalidArgumentsError("bad", [])), "bad_request");
    assert.equal(outcomeOf(new UpstreamTimeoutError("slow")), "timeout");
    assert.equal(outcomeOf(new UpstreamUnavailableError("gone", 1)), "unavailable");
    assert.equal(outcomeOf(new UpstreamIncompatibleError("old")), "unavailable");
    assert.equal(outcomeOf(new Error("?")), "error");
  });
});
