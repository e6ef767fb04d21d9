import { effectiveRanges, markerOf, type RewindMarker } from "../../core/effective-history.js";
import { limits } from "../../core/limits.js";
import { collectTouchedKeys, foldKeys, restoringDelta } from "../../core/rewind.js";
import { applyDelta } from "../../core/state.js";
import type { EventFilter, JsonObject, JsonValue, SequenceRange, SessionKey, StoredEvent } from "../../core/types.js";
import type { Store } from "../../stores/store.js";

/**
 * Reads behind rewinds, forks and effective-history views, through the
 * ordinary store reads: page by page, so memory holds one page however long
 * the session is. Sequences are gapless, so an unfiltered read of `n` events
 * after `s` returns exactly s+1 .. s+n.
 */

const PAGE = limits.maxPageSize;

/** Calls `visit` for every raw event first..last, in order. */
export async function scanEvents(store: Store, key: SessionKey, range: SequenceRange, visit: (e: StoredEvent) => void): Promise<void> {
  let cursor = range.first - 1;
  while (cursor < range.last) {
    const page = await store.readEvents(key, { filter: {}, afterSequence: cursor, limit: Math.min(PAGE, range.last - cursor) });
    if (page.length === 0) return;
    for (const event of page) if (event.sequence <= range.last) visit(event);
    cursor = page.at(-1)!.sequence;
  }
}

/** The rewind markers among the raw events 1..through, in order. */
export async function readMarkers(store: Store, key: SessionKey, through: number): Promise<RewindMarker[]> {
  if (store.readRewindMarkers) return store.readRewindMarkers(key, through);
  const markers: RewindMarker[] = [];
  await scanEvents(store, key, { first: 1, last: through }, (e) => {
    const marker = markerOf(e);
    if (marker) markers.push(marker);
  });
  return markers;
}

/** eff(through) of a session as ranges of raw sequences. */
export async function readEffectiveRanges(store: Store, key: SessionKey, through: number): Promise<SequenceRange[]> {
  return effectiveRanges(await readMarkers(store, key, through), through);
}

/**
 * What a rewind or fork to `target` needs, from one pass over events
 * 1..last (`current` being the state as of `last`): the delta restoring the
 * state as of target and, when asked, the markers up to target.
 */
export async function stateAsOf(
  store: Store,
  key: SessionKey,
  current: JsonObject,
  last: number,
  target: number,
  withMarkers: boolean,
): Promise<{ delta: JsonObject; state: JsonObject; markers: RewindMarker[] }> {
  const touched = new Set<string>();
  if (target < last) await scanEvents(store, key, { first: target + 1, last }, (e) => collectTouchedKeys(touched, e));
  const written = new Map<string, JsonValue>();
  let markers: RewindMarker[] = [];
  // A store that finds markers itself saves the scan when no key needs folding.
  const scanMarkers = withMarkers && !store.readRewindMarkers;
  if (withMarkers && !scanMarkers) markers = await readMarkers(store, key, target);
  if (touched.size > 0 || scanMarkers) {
    await scanEvents(store, key, { first: 1, last: target }, (e) => {
      if (touched.size > 0) foldKeys(written, touched, e);
      if (scanMarkers) {
        const marker = markerOf(e);
        if (marker) markers.push(marker);
      }
    });
  }
  const needsInitial = [...touched].some((k) => !written.has(k));
  const initial = needsInitial ? await store.readInitialState(key) : null;
  const delta = restoringDelta(current, touched, written, initial);
  return { delta, state: applyDelta(current, delta), markers };
}

/**
 * Pages of the events of `ranges` that match `filter`, in order, after
 * `skip` matching ones, until `limit` were yielded. Each page is at most
 * `pageSize` events.
 */
export async function* rangeEvents(
  store: Store,
  key: SessionKey,
  ranges: readonly SequenceRange[],
  filter: EventFilter,
  options: { limit: number; skip?: number; pageSize: number },
): AsyncGenerator<StoredEvent[]> {
  let left = options.limit;
  let skip = options.skip ?? 0;
  const unfiltered = Object.keys(filter).length === 0;
  for (const range of ranges) {
    let cursor = range.first - 1;
    while (cursor < range.last && left > 0) {
      // Without a filter the read stops at the range's end by itself.
      const want = Math.min(PAGE, options.pageSize + skip, left + skip);
      const limit = unfiltered ? Math.min(want, range.last - cursor) : want;
      const page = await store.readEvents(key, { filter, afterSequence: cursor, limit });
      if (page.length === 0) break;
      const inRange = page.filter((e) => e.sequence <= range.last);
      cursor = inRange.length < page.length ? range.last : page.at(-1)!.sequence;
      let out = inRange;
      if (skip > 0) {
        const dropped = Math.min(skip, out.length);
        out = out.slice(dropped);
        skip -= dropped;
      }
      if (out.length > left) out = out.slice(0, left);
      left -= out.length;
      if (out.length > 0) yield out;
      if (page.length < limit) break;
    }
    if (left <= 0) return;
  }
}

/** All of {@link rangeEvents} as one array. */
export async function collectRangeEvents(
  store: Store,
  key: SessionKey,
  ranges: readonly SequenceRange[],
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const page of rangeEvents(store, key, ranges, filter, { limit, pageSize: Math.min(PAGE, limit) })) out.push(...page);
  return out;
}
