import { copyJsonObject, emptyJsonObject } from "./json-object.js";
import type { JsonObject, ScopedDelta, SessionView } from "./types.js";

/** Prefix of keys shared by every session of an app. */
export const APP_PREFIX = "app:";
/** Prefix of keys shared by every session of one user of an app. */
export const USER_PREFIX = "user:";
/** Prefix of keys that live only for the current invocation and are never stored. */
export const TEMP_PREFIX = "temp:";

/** A delta routed to its scopes, plus what the stored event keeps of it. */
export interface SplitDelta {
  scoped: ScopedDelta;
  /** The delta without `temp:` keys; undefined when nothing is left. */
  stored: JsonObject | undefined;
}

/**
 * Routes a state delta to app, user and session scope (ADK semantics).
 * App and user keys lose their prefix: scoped state is stored without it and
 * {@link mergedState} puts it back. Only the delta's own keys count, and every
 * object built here is prototype-free (see json-object.ts), so a key such as
 * `__proto__` or `user:__proto__` stays an ordinary key of its scope.
 */
export function splitDelta(delta: JsonObject | undefined): SplitDelta {
  const scoped: ScopedDelta = { app: null, user: null, session: null };
  if (!delta) return { scoped, stored: undefined };
  let stored: JsonObject | undefined;
  for (const key of Object.keys(delta)) {
    if (key.startsWith(TEMP_PREFIX)) continue;
    const value = delta[key]!;
    (stored ??= emptyJsonObject())[key] = value;
    if (key.startsWith(APP_PREFIX)) (scoped.app ??= emptyJsonObject())[key.slice(APP_PREFIX.length)] = value;
    else if (key.startsWith(USER_PREFIX)) (scoped.user ??= emptyJsonObject())[key.slice(USER_PREFIX.length)] = value;
    else (scoped.session ??= emptyJsonObject())[key] = value;
  }
  return { scoped, stored };
}

/** Returns `state` with `delta` applied; a null value deletes the key. */
export function applyDelta(state: JsonObject, delta: JsonObject | null): JsonObject {
  if (!delta) return state;
  const next = copyJsonObject(state);
  for (const key of Object.keys(delta)) {
    const value = delta[key]!;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Combines two deltas into one with the same effect as applying both in order. */
export function combineDeltas(first: JsonObject | null, second: JsonObject | null): JsonObject | null {
  if (!first) return second;
  if (!second) return first;
  return Object.assign(copyJsonObject(first), second);
}

/**
 * Combines the scoped deltas of several events, in order, as
 * {@link combineDeltas} would pairwise: each scope is one new object that
 * the deltas are written into, so a batch costs its keys once rather than
 * a copy of everything combined so far per event.
 */
export function combineScopedDeltas(deltas: Iterable<ScopedDelta>): ScopedDelta {
  const result: ScopedDelta = { app: null, user: null, session: null };
  for (const delta of deltas) {
    if (delta.app) result.app = Object.assign(result.app ?? emptyJsonObject(), delta.app);
    if (delta.user) result.user = Object.assign(result.user ?? emptyJsonObject(), delta.user);
    if (delta.session) result.session = Object.assign(result.session ?? emptyJsonObject(), delta.session);
  }
  return result;
}

/** The state a client sees: session keys plus prefixed app and user keys. */
export function mergedState(view: SessionView): JsonObject {
  return Object.assign(copyJsonObject(view.session.state), prefixed(APP_PREFIX, view.appState), prefixed(USER_PREFIX, view.userState));
}

/** The shared state of a user: prefixed app and user keys. */
export function sharedState(appState: JsonObject, userState: JsonObject): JsonObject {
  return Object.assign(prefixed(APP_PREFIX, appState), prefixed(USER_PREFIX, userState));
}

function prefixed(prefix: string, state: JsonObject): JsonObject {
  const out = emptyJsonObject();
  for (const key of Object.keys(state)) out[prefix + key] = state[key]!;
  return out;
}
