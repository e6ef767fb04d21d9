import type { JsonObject } from "./types.js";

/**
 * Prototype-safe JSON objects. Client JSON may use any key, `__proto__` and
 * `constructor` included, and every key must stay an own key. Objects that
 * code fills key by key are therefore created without a prototype: on an
 * ordinary object `obj["__proto__"] = v` replaces the prototype instead of
 * adding a key, and its fields then appear as inherited keys of the object.
 * Objects from `JSON.parse`, protobuf-es and spread (`{...o}`) already hold
 * such keys as own properties; only assignment is unsafe.
 */

/** An empty JSON object without a prototype, safe to fill with any key. */
export function emptyJsonObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

/** A prototype-free copy of `source` (own keys only), safe to extend with any key. */
export function copyJsonObject(source: JsonObject): JsonObject {
  return Object.assign(emptyJsonObject(), source);
}

/** A prototype-free object from key/value pairs; a repeated key keeps its last value. */
export function jsonObjectFromEntries<V>(entries: Iterable<readonly [string, V]>): { [key: string]: V } {
  const out = Object.create(null) as { [key: string]: V };
  for (const [key, value] of entries) out[key] = value;
  return out;
}
