import { invalidArgument, type SessiondError } from "./errors.js";
import type { StoredEvent } from "./types.js";

/**
 * The events of a restore that a store writes, given the highest sequence
 * it already holds for the session. Restores resume: events at or below the
 * stored top are skipped (a copy interrupted and started again). The rest
 * must continue the session without a hole: the first one at top + 1, each
 * next one one higher. Anything else would leave a gap, which no read path
 * expects (sequences are gapless), so the whole call is rejected before
 * anything is written.
 */
export function eventsToRestore(events: readonly StoredEvent[], storedTop: number): StoredEvent[] {
  const fresh: StoredEvent[] = [];
  let next = storedTop + 1;
  for (const event of events) {
    if (event.sequence < next) continue;
    if (event.sequence !== next) throw restoreGap(event.sequence, next - 1);
    fresh.push(event);
    next++;
  }
  return fresh;
}

/** The error of a restore whose event `sequence` does not continue the stored `top`. */
export function restoreGap(sequence: number, top: number): SessiondError {
  return invalidArgument("events", `sequence ${sequence} would leave a gap after ${top}`);
}
