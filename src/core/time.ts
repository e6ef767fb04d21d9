let lastUs = 0;

/**
 * Current wall-clock time in integer microseconds since the Unix epoch, never
 * behind the previous value in this process. Whole milliseconds come from the
 * wall clock: `performance.timeOrigin + performance.now()` ignores clock
 * adjustments and drifts from it over a process's life (by over 10 ms on a
 * busy machine), which would put times written here out of step with
 * `Date.now()` elsewhere. Only the fraction of a millisecond is taken from the
 * monotonic clock.
 */
export function nowUs(): number {
  const us = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  lastUs = us > lastUs ? us : lastUs + 1;
  return lastUs;
}
