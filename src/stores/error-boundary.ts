import { SessiondError } from "../core/errors.js";
import { callExpired } from "./call-deadline.js";
import { type StoreMethod, wrapStoreMethods } from "./method-proxy.js";
import type { Store } from "./store.js";

/**
 * Turns one driver's error into a store error (UNAVAILABLE, ABORTED, …), or
 * undefined when it is not an outage, a conflict or bad input the driver
 * detected: such errors stay as they are and the API reports them INTERNAL.
 */
export type DriverErrorClassifier = (error: unknown) => SessiondError | undefined;

/**
 * Wraps a store so that every failure of every method, present or added
 * later (see {@link wrapStoreMethods}), passes through `classify`, and so do
 * functions its methods resolve to (the unsubscribe of `subscribe`). The
 * driver error stays the SessiondError's `cause`.
 *
 * A failure after the call's deadline passed (or the call was cancelled)
 * that is an outage, a timeout or an abort is DEADLINE_EXCEEDED: the store
 * gave up because the caller's time ran out, not because it is down.
 */
export function withErrorBoundary(store: Store, classify: DriverErrorClassifier): Store {
  // The settle callbacks are made once, not per call.
  const settled = (value: unknown) => (typeof value === "function" ? guard(value as StoreMethod) : value);
  const failed = (error: unknown) => {
    throw storeFailure(error, classify);
  };
  const guard = (method: StoreMethod): StoreMethod =>
    (...args) => {
      let result: unknown;
      try {
        result = method(...args);
      } catch (error) {
        throw storeFailure(error, classify);
      }
      if (!isPromiseLike(result)) return result;
      return Promise.resolve(result).then(settled, failed);
    };
  return wrapStoreMethods(store, NOTHING, (_name, method) => guard(method));
}

const NOTHING: ReadonlySet<PropertyKey> = new Set();

/** The store error a failed call reports; see {@link withErrorBoundary}. */
export function storeFailure(error: unknown, classify: DriverErrorClassifier): unknown {
  const classified = error instanceof SessiondError ? error : classify(error);
  if (callExpired() && (classified ? classified.kind === "unavailable" || classified.kind === "deadline_exceeded" : isAbort(error))) {
    return new SessiondError("deadline_exceeded", "store: the call's deadline passed before the store finished", {
      cause: error,
    });
  }
  return classified ?? error;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
