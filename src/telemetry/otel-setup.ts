import { context, propagation, trace } from "@opentelemetry/api";
import type { Sampler } from "@opentelemetry/sdk-trace";
import type { Logger } from "../log/logger.js";

/**
 * The OpenTelemetry SDK, set up from the standard environment. Loaded by tracing.ts only when tracing is on, so a
 * proxy without tracing never loads these packages. The SDK 3.x packages read no environment themselves (the OTLP
 * exporters do: endpoint, headers, timeout, compression, certificates), so the sampler, batching and resource
 * variables are read here.
 */
export interface SdkHandle {
  /** The exporters set up, e.g. ["otlp (http/json)"]. */
  exporters: string[];
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Sets up and registers the SDK globally; undefined (with a warning) when no usable exporter is named. */
export async function setUpSdk(env: Env, logger: Logger, version: string): Promise<SdkHandle | undefined> {
  const sdk = await import("@opentelemetry/sdk-trace");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } =
    await import("@opentelemetry/resources");

  const processors = [];
  const exporters: string[] = [];
  const names = (env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").map((name) => name.trim().toLowerCase());
  for (const name of new Set(names)) {
    if (name === "none" || name === "") continue;
    if (name === "console") {
      processors.push(new sdk.SimpleSpanProcessor({ exporter: new sdk.ConsoleSpanExporter() }));
      exporters.push("console");
    } else if (name === "otlp") {
      const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf")
        .trim()
        .toLowerCase();
      const module =
        protocol === "http/json"
          ? await import("@opentelemetry/exporter-trace-otlp-http")
          : protocol === "http/protobuf"
            ? await import("@opentelemetry/exporter-trace-otlp-proto")
            : undefined;
      if (!module) {
        logger.warn({ protocol }, "OTLP protocol not supported (http/protobuf and http/json are); no spans exported");
        continue;
      }
      processors.push(new sdk.BatchSpanProcessor({ exporter: new module.OTLPTraceExporter(), ...batching(env) }));
      exporters.push(`otlp (${protocol})`);
    } else {
      logger.warn({ exporter: name }, "trace exporter not supported (otlp and console are); ignored");
    }
  }
  if (processors.length === 0) return undefined;

  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": "mcpo-ts", "service.version": version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new sdk.TracerProvider({
    resource,
    sampler: samplerOf(env, sdk, logger),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // Trace context only: baggage is not passed on (it could carry a caller's data to every upstream).
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { exporters, shutdown: () => provider.shutdown() };
}

/** OTEL_BSP_* (delays in milliseconds), where set to a number. */
function batching(env: Env): {
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
} {
  const options: Record<string, number> = {};
  const read = (variable: string, key: string): void => {
    const value = Number(env[variable]);
    if (env[variable]?.trim() && Number.isFinite(value) && value >= 0) options[key] = value;
  };
  read("OTEL_BSP_SCHEDULE_DELAY", "scheduledDelayMillis");
  read("OTEL_BSP_EXPORT_TIMEOUT", "exportTimeoutMillis");
  read("OTEL_BSP_MAX_QUEUE_SIZE", "maxQueueSize");
  read("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "maxExportBatchSize");
  return options;
}

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; the spec's default is parentbased_always_on. */
function samplerOf(env: Env, sdk: typeof import("@opentelemetry/sdk-trace"), logger: Logger): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  const known = /^(parentbased_)?(always_on|always_off|traceidratio)$/.test(name);
  if (!known) logger.warn({ sampler: name }, "trace sampler not supported; using parentbased_always_on");
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  const root = !known
    ? new sdk.AlwaysOnSampler()
    : name.endsWith("always_off")
      ? new sdk.AlwaysOffSampler()
      : name.endsWith("traceidratio")
        ? new sdk.TraceIdRatioBasedSampler(ratio)
        : new sdk.AlwaysOnSampler();
  return !known || name.startsWith("parentbased_") ? new sdk.ParentBasedSampler({ root }) : root;
}
