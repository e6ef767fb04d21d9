import { context, propagation, trace } from "@opentelemetry/api";
import { packageVersion } from "./version.js";

/** Spans leaving the process; flushed and stopped by `shutdown`. */
export interface TraceExport {
  shutdown(): Promise<void>;
}

const PACKAGES = ["@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/resources"];

/**
 * Registers an OpenTelemetry SDK that batches every span to an OTLP/HTTP
 * collector at `endpoint` (e.g. http://127.0.0.1:4318; `/v1/traces` is
 * added). The SDK packages are optional dependencies, loaded only here.
 * The exporter also reads the standard OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_SERVICE_NAME names the service (default "sessiond").
 */
export async function startOtlpExport(endpoint: string): Promise<TraceExport> {
  let modules;
  try {
    modules = await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
    ]);
  } catch (error) {
    throw new Error(`--otlp-endpoint needs ${PACKAGES.join(", ")} (npm install them beside sessiond): ${String(error)}`);
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = modules;
  const url = endpoint.replace(/\/+$/, "").replace(/(\/v1\/traces)?$/, "/v1/traces");
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME || "sessiond", "service.version": packageVersion() }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Also installs the W3C trace-context propagator and the async-hooks context manager.
  provider.register();
  return {
    async shutdown() {
      await provider.shutdown();
      // Lets a later start in the same process register its own.
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
