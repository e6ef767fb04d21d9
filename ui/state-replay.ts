import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Event } from "../src/client/web.js";

/** The scope a state key belongs to, by its prefix. */
export type Scope = "session" | "user" | "app" | "temp";

/** The scope of a key: "app:…", "user:…", "temp:…" or the session's own. */
export function scopeOf(key: string): Scope {
  if (key.startsWith("app:")) return "app";
  if (key.startsWith("user:")) return "user";
  if (key.startsWith("temp:")) return "temp";
  return "session";
}

/**
 * One key's change by an event: the value after (undefined when deleted)
 * and, when an earlier loaded event set it, the value before (undefined
 * when it was unset). Before its first change in the loaded events a key's
 * value is not known: it may have been set when the session was created.
 */
export interface KeyChange {
  key: string;
  beforeKnown: boolean;
  before: JsonValue | undefined;
  after: JsonValue | undefined;
}

/**
 * Replays the loaded events' state deltas, as the server applies them, so
 * the page can show the state after any event. The state before the first
 * event is the current state's keys that no loaded event touches: those
 * were set when the session was created (or by other sessions, for the
 * shared scopes) and still hold. "temp:" keys are never stored.
 */
export class StateReplay {
  private readonly after = new Map<bigint, JsonObject>();
  private readonly changes = new Map<bigint, KeyChange[]>();
  private readonly events: Event[] = [];
  private base: JsonObject = {};

  /** Starts over from the session's current merged state. */
  reset(current: JsonObject): void {
    this.events.length = 0;
    this.base = { ...current };
    this.after.clear();
    this.changes.clear();
  }

  /** Adds events in sequence order. */
  add(events: Event[]): void {
    this.events.push(...events);
    this.after.clear();
    this.changes.clear();
  }

  /** Keys each event changed, with old and new values. */
  changesOf(sequence: bigint): KeyChange[] {
    this.replay();
    return this.changes.get(sequence) ?? [];
  }

  /** The merged state after the event with `sequence`. */
  stateAfter(sequence: bigint): JsonObject {
    this.replay();
    return this.after.get(sequence) ?? {};
  }

  private replay(): void {
    if (this.after.size > 0 || this.events.length === 0) return;
    const touched = new Set<string>();
    for (const e of this.events) for (const key of Object.keys(e.actions?.stateDelta ?? {})) touched.add(key);
    let state: JsonObject = Object.fromEntries(Object.entries(this.base).filter(([key]) => !touched.has(key)));
    const known = new Set<string>();
    for (const e of this.events) {
      const delta = e.actions?.stateDelta ?? {};
      const next = { ...state };
      const changes: KeyChange[] = [];
      for (const [key, value] of Object.entries(delta)) {
        if (scopeOf(key) === "temp") continue;
        changes.push({ key, beforeKnown: known.has(key), before: state[key], after: value === null ? undefined : value });
        known.add(key);
        if (value === null) delete next[key];
        else next[key] = value;
      }
      state = next;
      this.after.set(e.sequence, state);
      this.changes.set(e.sequence, changes);
    }
  }
}

/** A state split by scope, keys keeping their prefixes. */
export function splitScopes(state: JsonObject): Record<"session" | "user" | "app", JsonObject> {
  const out = { session: {} as JsonObject, user: {} as JsonObject, app: {} as JsonObject };
  for (const [key, value] of Object.entries(state)) {
    const scope = scopeOf(key);
    if (scope !== "temp") out[scope][key] = value;
  }
  return out;
}
