import { expect } from "vitest";
import { SessiondError } from "../../../src/core/errors.js";
import { splitDelta } from "../../../src/core/state.js";
import type { EventData, JsonObject, PendingEvent, SessionKey, StoredEvent } from "../../../src/core/types.js";
import type { Store } from "../../../src/stores/store.js";
import { eventData } from "../../support/events.js";
import { uniqueName } from "../../support/server.js";

/** What each store-level test gets: the store under test, opened on an isolated place. */
export interface StoreSpecContext {
  /** The store name in `test/support/stores.ts`. */
  readonly name: string;
  readonly store: Store;
  /** The isolated place's URL, for tests that open it again. */
  readonly url: string;
}

/** A fresh key in an app no other test uses. */
export function freshKey(userId = "u"): SessionKey {
  return { appName: uniqueName("app"), userId, sessionId: uniqueName("s") };
}

/** Creates a session; `state` may hold app:, user: and session keys. */
export async function create(store: Store, key: SessionKey, state: JsonObject = {}, nowUs = 1_000_000) {
  return store.createSession({
    appName: key.appName,
    userId: key.userId,
    id: key.sessionId,
    agentId: "",
    metadata: {},
    delta: splitDelta(state).scoped,
    nowUs,
  });
}

/** An event whose timestamp is 10 µs × `n` after a fixed epoch, so tests can select by time. */
export function event(id: string, n: number, fields: Partial<EventData> = {}): EventData {
  return eventData(id, { timestampUs: 1_700_000_000_000_000 + n * 10, content: { text: id }, ...fields });
}

/** A pending event with a state delta. */
export function pending(data: EventData, state?: JsonObject): PendingEvent {
  return { event: data, delta: splitDelta(state).scoped };
}

/** Appends `count` events (one batch) named `<prefix><i>` and returns them as stored. */
export async function appendEvents(store: Store, key: SessionKey, count: number, prefix = "e", first = 1): Promise<StoredEvent[]> {
  const data = Array.from({ length: count }, (_, i) => event(`${prefix}${first + i}`, first + i));
  const outcome = await store.appendEvents(key, { events: data.map((d) => pending(d)), nowUs: 2_000_000 });
  return data.map((d, i) => ({ ...d, sequence: outcome.events[i]!.sequence }));
}

/** The rejection of `call`, which must be a SessiondError of `kind`. */
export async function rejection(call: Promise<unknown>, kind: SessiondError["kind"]): Promise<SessiondError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${kind}`).toBeInstanceOf(SessiondError);
  expect((error as SessiondError).kind, (error as Error).message).toBe(kind);
  return error as SessiondError;
}
