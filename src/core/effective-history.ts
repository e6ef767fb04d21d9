import type { SequenceRange, StoredEvent } from "./types.js";

/**
 * The effective history of a session: its raw log with what rewinds undid
 * left out. Defined by recursion over raw sequences:
 *
 * - eff(0) is empty;
 * - eff(n) = eff(n − 1) + [n] for an ordinary event n;
 * - eff(M) = eff(T) for a rewind marker M with target T.
 *
 * So a rewind of a rewind (a target between an earlier marker's target and
 * that marker) brings back what the earlier marker hid, and the session
 * state as of any sequence n equals the initial state with the deltas of
 * eff(n) applied in order (each marker's delta restores its target's state).
 */

/** A rewind marker as the effective history needs it. */
export interface RewindMarker {
  sequence: number;
  targetSequence: number;
}

/** The markers among events (only sequence and actions matter), in their order. */
export function markersOf(events: Iterable<Pick<StoredEvent, "sequence" | "actions">>): RewindMarker[] {
  const out: RewindMarker[] = [];
  for (const event of events) {
    const marker = markerOf(event);
    if (marker) out.push(marker);
  }
  return out;
}

/** The marker an event is, or undefined for an ordinary event. */
export function markerOf(event: Pick<StoredEvent, "sequence" | "actions">): RewindMarker | undefined {
  const rewind = event.actions?.rewind;
  if (!rewind) return undefined;
  // Imported data could hold any target; one at or after the marker would loop.
  const target = Math.max(0, Math.min(rewind.targetSequence, event.sequence - 1));
  return { sequence: event.sequence, targetSequence: target };
}

/**
 * eff(through) as ascending, disjoint ranges of raw sequences. `markers`
 * must be in ascending sequence order; those after `through` are ignored.
 * Takes O(markers) steps, however long the session.
 */
export function effectiveRanges(markers: readonly RewindMarker[], through: number): SequenceRange[] {
  const ranges: SequenceRange[] = [];
  let cur = through;
  let i = markers.length - 1;
  while (cur > 0) {
    while (i >= 0 && markers[i]!.sequence > cur) i--;
    const marker = i >= 0 ? markers[i]! : undefined;
    if (marker && marker.sequence === cur) {
      cur = marker.targetSequence;
      continue;
    }
    const first = marker ? marker.sequence + 1 : 1;
    ranges.push({ first, last: cur });
    cur = first - 1;
  }
  return ranges.reverse();
}

/** How many sequences the ranges hold. */
export function rangesSize(ranges: readonly SequenceRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.last - r.first + 1;
  return n;
}

/** The ranges cut down to sequences above `after`. */
export function rangesAfter(ranges: readonly SequenceRange[], after: number): SequenceRange[] {
  const out: SequenceRange[] = [];
  for (const r of ranges) {
    if (r.last <= after) continue;
    out.push({ first: Math.max(r.first, after + 1), last: r.last });
  }
  return out;
}

/** The ranges cut down to their newest `count` sequences. */
export function newestOf(ranges: readonly SequenceRange[], count: number): SequenceRange[] {
  const out: SequenceRange[] = [];
  let left = count;
  for (let i = ranges.length - 1; i >= 0 && left > 0; i--) {
    const r = ranges[i]!;
    const size = r.last - r.first + 1;
    if (size <= left) out.push(r);
    else out.push({ first: r.last - left + 1, last: r.last });
    left -= size;
  }
  return out.reverse();
}

/** Whether a sequence lies in one of the (ascending) ranges. */
export function inRanges(ranges: readonly SequenceRange[], sequence: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (sequence < r.first) hi = mid - 1;
    else if (sequence > r.last) lo = mid + 1;
    else return true;
  }
  return false;
}
