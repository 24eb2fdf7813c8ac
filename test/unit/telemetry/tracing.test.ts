import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tracingWanted } from "../../../src/telemetry/tracing.js";

describe("tracingWanted (docs/OPERATIONS.md, Tracing: on only when the OTEL_* environment asks)", () => {
  it("is off with no OTEL_* variable", () => {
    assert.equal(tracingWanted({}), false);
  });

  it("is on when OTEL_TRACES_EXPORTER names an exporter, off when it is none", () => {
    assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: "otlp" }), true);
    assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: "console" }), true);
    assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: "none" }), false);
    assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }), false);
  });

  it("is on when an OTLP endpoint is given", () => {
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), true);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" }), true);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), false);
  });

  it("is off with OTEL_SDK_DISABLED=true, whatever else is set", () => {
    assert.equal(tracingWanted({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" }), false);
    assert.equal(tracingWanted({ OTEL_SDK_DISABLED: "TRUE", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }), false);
    assert.equal(tracingWanted({ OTEL_SDK_DISABLED: "false", OTEL_TRACES_EXPORTER: "otlp" }), true);
  });
});
