/**
 * DATETIME(6) columns hold UTC wall-clock time. Values cross the wire as
 * text in both directions so that no JavaScript Date (milliseconds) sits in
 * between: writes send 'YYYY-MM-DD HH:MM:SS.ffffff', reads select the
 * microseconds since the epoch as an integer.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) for microseconds since the epoch. */
export function datetimeFromUs(us: number): string {
  const seconds = Math.floor(us / 1e6);
  const micros = Math.min(999_999, Math.max(0, Math.trunc(us - seconds * 1e6)));
  const d = new Date(seconds * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}`
  );
}

/** SQL selecting a DATETIME(6) column as integer microseconds since the epoch, named after the column. */
export function usColumn(column: string, alias = column): string {
  return `TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${column}) AS ${alias}`;
}

/** Microseconds from the integer the driver returned (a number, or a string beyond 2^53). */
export const usFromColumn = (value: unknown): number => Number(value);
