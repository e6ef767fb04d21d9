import type { RecentEventsQuery, StoredEvent } from "./types.js";

/** The events a {@link RecentEventsQuery} selects, as a sequence range plus a time bound. */
export interface RecentEventsRange {
  /** Events with a sequence above this one. */
  afterSequence: number;
  /** And a timestamp at or after this time, when set. */
  afterTimeUs?: number;
}

/**
 * Which events GetSession returns, given the session's last sequence.
 * Sequences are gapless (1..last), so "the newest N" is every sequence above
 * `last − N`; `after_time` then narrows that set. Undefined when the query
 * asks for none. Stores read the range as `sequence > afterSequence AND
 * timestamp >= afterTimeUs`, in sequence order.
 */
export function recentEventsRange(query: RecentEventsQuery, lastSequence: number): RecentEventsRange | undefined {
  if (query.numRecentEvents === 0) return undefined;
  const afterSequence = query.numRecentEvents === undefined ? 0 : Math.max(0, lastSequence - query.numRecentEvents);
  return query.afterTimeUs === undefined ? { afterSequence } : { afterSequence, afterTimeUs: query.afterTimeUs };
}

/** Whether an event lies in the range: for stores that filter in process. */
export function inRecentEventsRange(event: StoredEvent, range: RecentEventsRange): boolean {
  return event.sequence > range.afterSequence && (range.afterTimeUs === undefined || event.timestampUs >= range.afterTimeUs);
}
