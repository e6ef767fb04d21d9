import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SessiondError } from "../core/errors.js";
import type { Store } from "./store.js";

const tracer = trace.getTracer("sessiond");

// Not store operations, or (ping) probes on a timer that would only add root spans.
const UNTRACED = new Set<PropertyKey>(["kind", "close", "ping", "poolStats"]);

const FAILURES = new Set(["unavailable", "internal"]);

// The OpenTelemetry `db.system.name` of each store kind that has one.
const DB_SYSTEM: Record<string, string> = { postgres: "postgresql", mysql: "mysql", redis: "redis", sqlite: "sqlite" };

/**
 * The store with a client span per call (`store.getSession`, …) beneath the
 * active span. Calls outside a recorded span (no SDK, not sampled, timers)
 * go straight through, so tracing costs nothing when it is off.
 */
export function tracedStore(store: Store): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  const attributes = { "sessiond.store": store.kind, ...(DB_SYSTEM[store.kind] ? { "db.system.name": DB_SYSTEM[store.kind] } : {}) };
  const kind = store.kind === "memory" ? SpanKind.INTERNAL : SpanKind.CLIENT;
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const name = `store.${String(prop)}`;
        fn = UNTRACED.has(prop)
          ? value.bind(target)
          : (...args: unknown[]) => {
              if (!trace.getActiveSpan()?.isRecording()) return value.apply(target, args);
              return tracer.startActiveSpan(name, { kind, attributes: { ...attributes, "db.operation.name": String(prop) } }, async (span) => {
                try {
                  return await value.apply(target, args);
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
            };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
