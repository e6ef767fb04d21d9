import { sequenceConflict } from "./errors.js";
import { combineScopedDeltas } from "./state.js";
import type { AppendBatch, AppendOutcome, AssignedEvent, ScopedDelta, StoredEvent } from "./types.js";

/** What a store writes for one append, decided by {@link planAppend}. */
export interface AppendPlan {
  /** New events with their sequences, in order. Empty for a pure retry. */
  inserts: StoredEvent[];
  /** The combined state change of the inserted events. */
  delta: ScopedDelta;
  /**
   * The session's update time after the append: the timestamp of the last
   * inserted event (the client's or the server's), as ADK sets
   * last_update_time from each appended event. It may move backwards, e.g.
   * for backfills. Only meaningful when something is inserted.
   */
  updateTimeUs: number;
  /** What the caller gets back. */
  outcome: AppendOutcome;
}

/**
 * Decides an append inside the store's transaction, after the store has
 * locked the session and looked up which of the batch's event ids it holds.
 *
 * - Every event already stored: an idempotent retry; nothing is written and
 *   the stored assignments are returned, whatever expected_last_sequence says.
 * - Otherwise expected_last_sequence, when set, must equal `lastSequence`.
 * - New events get lastSequence+1, +2, ... in batch order; already stored
 *   ones keep their stored sequence.
 * - The session's update time becomes the last new event's timestamp.
 */
export function planAppend(
  batch: AppendBatch,
  lastSequence: number,
  stored: ReadonlyMap<string, AssignedEvent>,
): AppendPlan {
  const fresh = batch.events.filter((p) => !stored.has(p.event.id));
  if (fresh.length > 0 && batch.expectedLastSequence !== undefined && batch.expectedLastSequence !== lastSequence) {
    throw sequenceConflict(batch.expectedLastSequence, lastSequence);
  }
  let next = lastSequence;
  const inserts: StoredEvent[] = [];
  const events: AssignedEvent[] = batch.events.map((pending) => {
    const existing = stored.get(pending.event.id);
    if (existing) return existing;
    const event: StoredEvent = { ...pending.event, sequence: ++next };
    inserts.push(event);
    return { id: event.id, sequence: event.sequence, timestampUs: event.timestampUs };
  });
  return {
    inserts,
    delta: combineScopedDeltas(fresh.map((p) => p.delta)),
    updateTimeUs: inserts.at(-1)?.timestampUs ?? batch.nowUs,
    outcome: { events, lastSequence: next },
  };
}
