import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SessiondError } from "../core/errors.js";
import { wrapStoreMethods } from "./method-proxy.js";
import type { Store } from "./store.js";

const tracer = trace.getTracer("sessiond");

// Not store operations, or (ping) probes on a timer that would only add root spans.
const UNTRACED = new Set<PropertyKey>(["kind", "close", "ping", "poolStats", "constructor"]);

const FAILURES = new Set(["unavailable", "internal"]);

// The OpenTelemetry `db.system.name` of each store kind that has one.
const DB_SYSTEM: Record<string, string> = { postgres: "postgresql", mysql: "mysql", redis: "redis", sqlite: "sqlite" };

/**
 * The store with a client span per call (`store.getSession`, …) beneath the
 * active span. Calls outside a recorded span (no SDK, not sampled, timers)
 * go straight through, so tracing costs nothing when it is off.
 */
export function tracedStore(store: Store): Store {
  const attributes = { "sessiond.store": store.kind, ...(DB_SYSTEM[store.kind] ? { "db.system.name": DB_SYSTEM[store.kind] } : {}) };
  const kind = store.kind === "memory" ? SpanKind.INTERNAL : SpanKind.CLIENT;
  return wrapStoreMethods(store, UNTRACED, (operation, method) => (...args) => {
    if (!trace.getActiveSpan()?.isRecording()) return method(...args);
    return tracer.startActiveSpan(`store.${operation}`, { kind, attributes: { ...attributes, "db.operation.name": operation } }, async (span) => {
      try {
        return await method(...args);
      } catch (error) {
        // A missing session or a sequence conflict is an answer, not a failure of the store.
        const answer = error instanceof SessiondError && !FAILURES.has(error.kind);
        if (answer) span.setAttribute("sessiond.error_kind", error.kind);
        else span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  });
}
