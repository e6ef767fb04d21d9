import type { Interceptor } from "@connectrpc/connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { HttpRoute, RejectedCall } from "../server.js";
import { wrapStoreMethods } from "../stores/method-proxy.js";
import type { Store } from "../stores/store.js";
import { observeStream, outcomeCode } from "./rpc-outcome.js";

/** The labels of one method's series, and of its counts by status code. */
interface MethodLabels {
  readonly method: { service: string; method: string };
  withCode(code: string): { service: string; method: string; code: string };
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics, in a registry of their own (never the
 * global one, so several servers in one process do not collide).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly rpcs: Counter<"service" | "method" | "code">;
  private readonly rpcSeconds: Histogram<"service" | "method">;
  private readonly streams: Gauge<"service" | "method">;
  private readonly storeSeconds: Histogram<"operation" | "outcome">;
  /** By method descriptor, the same object on every call of a method. */
  private readonly methodLabels = new Map<object, MethodLabels>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.rpcs = new Counter({
      name: "sessiond_rpc_requests_total",
      help: "RPCs finished, by method and status code.",
      labelNames: ["service", "method", "code"],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: "sessiond_rpc_duration_seconds",
      help: "Time from receiving an RPC until its response (or stream) ended.",
      labelNames: ["service", "method"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.streams = new Gauge({
      name: "sessiond_rpc_active_streams",
      help: "Response streams open now.",
      labelNames: ["service", "method"],
      registers,
    });
    this.storeSeconds = new Histogram({
      name: "sessiond_store_operation_duration_seconds",
      help: "Time the store took per operation.",
      labelNames: ["operation", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts and times every RPC; streams count as active until they end. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const started = performance.now();
      const labels = this.labelsOf(req.method, req.service.typeName);
      const finish = (error?: unknown) => {
        this.rpcSeconds.observe(labels.method, (performance.now() - started) / 1000);
        this.rpcs.inc(labels.withCode(outcomeCode(error)));
      };
      let res;
      try {
        res = await next(req);
      } catch (error) {
        finish(error);
        throw error;
      }
      if (!res.stream) {
        finish();
        return res;
      }
      this.streams.inc(labels.method);
      return {
        ...res,
        message: observeStream(res.message, (error) => {
          this.streams.dec(labels.method);
          finish(error);
        }),
      };
    };
  }

  /**
   * The label sets of one method, made on its first call and reused rather
   * than built per call; nothing changes them once made.
   */
  private labelsOf(descriptor: { readonly name: string }, service: string): MethodLabels {
    let labels = this.methodLabels.get(descriptor);
    if (labels === undefined) {
      const byCode = new Map<string, { service: string; method: string; code: string }>();
      const base = { service, method: descriptor.name };
      labels = {
        method: base,
        withCode(code) {
          let withCode = byCode.get(code);
          if (withCode === undefined) byCode.set(code, (withCode = { ...base, code }));
          return withCode;
        },
      };
      this.methodLabels.set(descriptor, labels);
    }
    return labels;
  }

  /** For `ServerOptions.onRejectedCall`: counts and times an RPC rejected before the interceptors saw it. */
  countRejected(call: RejectedCall): void {
    const labels = { service: call.service, method: call.method };
    this.rpcSeconds.observe(labels, call.durationMs / 1000);
    this.rpcs.inc({ ...labels, code: outcomeCode(call.error) });
  }

  /**
   * The store with every operation timed (outcome ok or error), and its
   * connection pool reported when it has one. The store underneath is unchanged.
   */
  instrumentStore(store: Store): Store {
    if (store.poolStats) {
      const poolStats = store.poolStats.bind(store);
      new Gauge({
        name: "sessiond_store_pool_connections",
        help: "Connections of the store's pool, by state.",
        labelNames: ["state"],
        registers: [this.registry],
        collect() {
          const stats = poolStats();
          this.set({ state: "total" }, stats.total);
          this.set({ state: "idle" }, stats.idle);
        },
      });
      new Gauge({
        name: "sessiond_store_pool_waiting",
        help: "Store operations waiting for a pooled connection.",
        registers: [this.registry],
        collect() {
          this.set(poolStats().waiting);
        },
      });
    }
    return timedStore(store, this.storeSeconds);
  }

  /** Exports the number of open follow streams, read from `count` at each scrape. */
  reportFollowers(count: () => number): void {
    new Gauge({
      name: "sessiond_follow_streams_active",
      help: "GetEvents streams following new events now.",
      registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  /** Exports 1 while `isUp` says the store answers, 0 otherwise. */
  reportStoreUp(isUp: () => boolean): void {
    new Gauge({
      name: "sessiond_store_up",
      help: "1 while the store answers health probes, 0 while it is unreachable or the server drains.",
      registers: [this.registry],
      collect() {
        this.set(isUp() ? 1 : 0);
      },
    });
  }

  /** GET /metrics in the Prometheus text format. */
  route(path = "/metrics"): HttpRoute {
    return {
      path,
      handle: async (req, res) => {
        if (req.method !== "GET" && req.method !== "HEAD") {
          res.statusCode = 405;
          res.setHeader("allow", "GET, HEAD");
          res.end();
          return;
        }
        const body = await this.registry.metrics();
        res.statusCode = 200;
        res.setHeader("content-type", this.registry.contentType);
        if (req.method === "HEAD") res.end();
        else res.end(body);
      },
    };
  }
}

/** Store members that are not timed: not I/O, or not per-request. */
const UNTIMED = new Set<PropertyKey>(["kind", "close", "poolStats", "subscribe", "constructor"]);

function timedStore(store: Store, seconds: Histogram<"operation" | "outcome">): Store {
  return wrapStoreMethods(store, UNTIMED, (operation, method) => {
    // Label sets and settle callbacks are made once per operation, not per call.
    const ok = { operation, outcome: "ok" };
    const failed = { operation, outcome: "error" };
    return (...args) => {
      const started = performance.now();
      let result: unknown;
      try {
        result = method(...args);
      } catch (error) {
        seconds.observe(failed, (performance.now() - started) / 1000);
        return Promise.reject(error);
      }
      return Promise.resolve(result).then(
        (value) => {
          seconds.observe(ok, (performance.now() - started) / 1000);
          return value;
        },
        (error: unknown) => {
          seconds.observe(failed, (performance.now() - started) / 1000);
          throw error;
        },
      );
    };
  });
}
