import type { Store } from "./store.js";

/** A store method taken off its object, bound to it. */
export type StoreMethod = (...args: unknown[]) => unknown;

/**
 * A Proxy over `store` whose methods (except those in `skip`) are replaced
 * by `wrap(name, method)`, built once per method. A Proxy rather than a
 * class listing each method, so operations a store gains later are wrapped
 * too without touching the wrappers.
 */
export function wrapStoreMethods(store: Store, skip: ReadonlySet<PropertyKey>, wrap: (name: string, method: StoreMethod) => StoreMethod): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = (value as StoreMethod).bind(target);
        fn = skip.has(prop) ? method : wrap(String(prop), method);
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
