import type { SessionKey } from "../../src/core/types.js";
import type { Store } from "../../src/stores/store.js";

/** What an instrumented store has seen. */
export interface StoreCounters {
  /** readEvents calls per session id. */
  reads: Map<string, number>;
  /** subscribe calls that resolved. */
  subscribes: number;
  /** unsubscribe calls that resolved. */
  unsubscribes: number;
}

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * For stores without `subscribe`: provide it in process, firing after
   * appends and deletes made through this wrapper, so the shared-subscription
   * bookkeeping can be checked on every store. Stores that have it keep theirs.
   */
  subscribe?: boolean;
  /** Leave `close` to the owner, so several servers can share the store. */
  keepOpen?: boolean;
}

/**
 * A real store wrapped to count calls: store page reads per session and
 * subscriptions opened and released. Everything else passes through.
 */
export function instrument(inner: Store, options: InstrumentOptions = {}): { store: Store; counters: StoreCounters } {
  const counters: StoreCounters = { reads: new Map(), subscribes: 0, unsubscribes: 0 };
  const listeners = new Map<string, Set<() => void>>();
  const emulate = options.subscribe === true && !inner.subscribe;
  const fire = (id: string) => listeners.get(id)?.forEach((l) => l());
  const fireApp = (appName: string, userId?: string) => {
    for (const [id, set] of listeners) {
      const [app, user] = id.split("\u0000");
      if (app === appName && (userId === undefined || user === userId)) set.forEach((l) => l());
    }
  };
  const base = inner.subscribe?.bind(inner);
  const subscribe = emulate
    ? async (key: SessionKey, listener: () => void) => {
        const id = keyId(key);
        const set = listeners.get(id) ?? new Set();
        listeners.set(id, set.add(listener));
        return async () => {
          set.delete(listener);
          if (set.size === 0) listeners.delete(id);
        };
      }
    : base;
  const wrapped: Partial<Store> = {
    async readEvents(key, query) {
      counters.reads.set(key.sessionId, (counters.reads.get(key.sessionId) ?? 0) + 1);
      return inner.readEvents(key, query);
    },
    async close() {
      if (!options.keepOpen) await inner.close();
    },
  };
  if (subscribe) {
    wrapped.subscribe = async (key, listener) => {
      const unsubscribe = await subscribe(key, listener);
      counters.subscribes++;
      return async () => {
        await unsubscribe();
        counters.unsubscribes++;
      };
    };
  }
  if (emulate) {
    wrapped.appendEvents = async (key, batch) => {
      const outcome = await inner.appendEvents(key, batch);
      fire(keyId(key));
      return outcome;
    };
    wrapped.deleteSession = async (key) => {
      await inner.deleteSession(key);
      fire(keyId(key));
    };
    wrapped.deleteSessions = async (scope) => {
      const count = await inner.deleteSessions(scope);
      if (scope.appName !== undefined) fireApp(scope.appName, scope.userId);
      return count;
    };
  }
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property in wrapped) return wrapped[property as keyof Store];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
    has(target, property) {
      return property in wrapped || property in target;
    },
  });
  return { store, counters };
}

function keyId(key: SessionKey): string {
  return `${key.appName}\u0000${key.userId}\u0000${key.sessionId}`;
}
