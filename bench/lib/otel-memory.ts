/**
 * A `node --import` preload for the observability bench: registers a tracer provider of the user's kind (what an
 * OpenTelemetry setup loaded before mcpo-ts does), exporting to memory through the usual batching processor, so
 * mcpo-ts traces with it and the figures show tracing's own cost without a network exporter's. The finished spans
 * are counted and dropped every second; the count is printed on stderr at exit as a JSON line
 * (`{"msg":"bench spans","spans":n}`), so the bench can tell that spans were made.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);

let spans = 0;
const drain = (): void => {
  spans += exporter.getFinishedSpans().length;
  exporter.reset();
};
setInterval(drain, 1000).unref();
process.on("exit", () => {
  drain();
  process.stderr.write(`${JSON.stringify({ msg: "bench spans", spans })}\n`);
});
