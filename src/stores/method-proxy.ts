import type { Store } from "./store.js";

/** A store method taken off its object, bound to it. */
export type StoreMethod = (...args: unknown[]) => unknown;

/** One wrapping of a store's methods: those not in `skip` are replaced by `wrap(name, method)`. */
interface Layer {
  readonly skip: ReadonlySet<PropertyKey>;
  readonly wrap: (name: string, method: StoreMethod) => StoreMethod;
}

/** The store and the layers, innermost first, behind each proxy made here. */
const layered = new WeakMap<object, { readonly target: Store; readonly layers: readonly Layer[] }>();

/**
 * A Proxy over `store` whose methods (except those in `skip`) are replaced
 * by `wrap(name, method)`, built once per method. A Proxy rather than a
 * class listing each method, so operations a store gains later are wrapped
 * too without touching the wrappers.
 *
 * Wrapping a store that is itself such a proxy gives one proxy over the
 * store underneath, its methods wrapped by every layer in turn: a call
 * passes one proxy, not one per layer. The store passed in keeps working
 * as before.
 */
export function wrapStoreMethods(store: Store, skip: ReadonlySet<PropertyKey>, wrap: (name: string, method: StoreMethod) => StoreMethod): Store {
  const inner = layered.get(store);
  const target = inner?.target ?? store;
  const layers = [...(inner?.layers ?? []), { skip, wrap }];
  const wrapped = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(target, {
    get(base, prop) {
      const value = Reflect.get(base, prop, base);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        let method = (value as StoreMethod).bind(base);
        for (const layer of layers) if (!layer.skip.has(prop)) method = layer.wrap(String(prop), method);
        fn = method;
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
  layered.set(proxy, { target, layers });
  return proxy;
}
