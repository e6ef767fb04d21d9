/** Current wall-clock time in integer microseconds since the Unix epoch. */
export function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
