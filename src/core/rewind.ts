import { SessiondError } from "./errors.js";
import { emptyJsonObject } from "./json-object.js";
import { splitDelta } from "./state.js";
import type { JsonObject, JsonValue, PendingEvent, RewindAction, StoredEvent } from "./types.js";
import { eventDataOf } from "./event-data.js";

/**
 * Rewind rules. A session's state changes only through its initial state and
 * its events' deltas, so the session-scoped state as of sequence T is the
 * initial state with the session deltas of raw events 1..T applied (earlier
 * markers' restoring deltas included). A rewind needs only the keys that
 * events after T changed: every other key already has its value as of T.
 * Shared `app:` and `user:` state belongs to other sessions too and is not
 * rewound.
 */

/** The session-scoped part of an event's stored state delta. */
export function sessionDeltaOf(event: StoredEvent): JsonObject | null {
  return splitDelta(event.actions?.stateDelta).scoped.session;
}

/** Collects the session keys that events change; feed it the events after the target. */
export function collectTouchedKeys(into: Set<string>, event: StoredEvent): void {
  const delta = sessionDeltaOf(event);
  if (delta) for (const key of Object.keys(delta)) into.add(key);
}

/**
 * Folds an event's session delta into `into`, for the keys in `keys` only:
 * afterwards `into` holds each key's last written value (null: deleted).
 * Feed it the events 1..T in order.
 */
export function foldKeys(into: Map<string, JsonValue>, keys: ReadonlySet<string>, event: StoredEvent): void {
  const delta = sessionDeltaOf(event);
  if (!delta) return;
  for (const key of Object.keys(delta)) if (keys.has(key)) into.set(key, delta[key]!);
}

/**
 * The delta that turns `current` into the session state as of the target.
 * `touched` are the keys events after the target changed; `written` their
 * last values at or before the target ({@link foldKeys}); `initial` the
 * recorded initial state, or null for a session created before initial
 * states were recorded. Such a session can still be rewound exactly unless
 * a touched key was never written at or before the target: its value then
 * came from the unknown initial state, and the rewind fails with
 * FAILED_PRECONDITION instead of guessing.
 */
export function restoringDelta(
  current: JsonObject,
  touched: ReadonlySet<string>,
  written: ReadonlyMap<string, JsonValue>,
  initial: JsonObject | null,
): JsonObject {
  const delta = emptyJsonObject();
  const unknown: string[] = [];
  for (const key of touched) {
    let want: JsonValue;
    if (written.has(key)) want = written.get(key)!;
    else if (initial === null) {
      unknown.push(key);
      continue;
    } else want = Object.hasOwn(initial, key) ? initial[key]! : null;
    const has = Object.hasOwn(current, key);
    if (want === null) {
      if (has) delta[key] = null;
    } else if (!has || !jsonEqual(current[key]!, want)) delta[key] = want;
  }
  if (unknown.length > 0) {
    throw new SessiondError(
      "failed_precondition",
      `session has no recorded initial state (it was created before sessiond recorded them, or imported), and its initial value of ${unknown
        .slice(0, 5)
        .map((k) => JSON.stringify(k))
        .join(", ")}${unknown.length > 5 ? ` and ${unknown.length - 5} more keys` : ""} is unknown; it cannot be rewound to this point`,
    );
  }
  return delta;
}

/** What a rewind marker records, besides its restoring delta. */
export interface MarkerInput {
  id: string;
  invocationId: string;
  author: string;
  nowUs: number;
  rewind: RewindAction;
  delta: JsonObject;
}

/** The marker event a rewind appends: it carries the restoring delta and the rewound range. */
export function rewindMarkerEvent(input: MarkerInput): PendingEvent {
  const hasDelta = Object.keys(input.delta).length > 0;
  const rewind: RewindAction = { targetSequence: input.rewind.targetSequence, lastRewoundSequence: input.rewind.lastRewoundSequence };
  if (input.rewind.beforeInvocationId) rewind.beforeInvocationId = input.rewind.beforeInvocationId;
  return {
    event: eventDataOf(input.id, {
      invocationId: input.invocationId,
      author: input.author,
      timestampUs: input.nowUs,
      actions: hasDelta ? { stateDelta: input.delta, rewind } : { rewind },
    }),
    // Session state never holds app:, user: or temp: keys, so the whole delta is session-scoped.
    delta: { app: null, user: null, session: hasDelta ? input.delta : null },
  };
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]!));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
}
