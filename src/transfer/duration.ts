const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration such as `30d`, `12h`, `90m`, `45s` or `2w` into
 * milliseconds. Throws an error naming `flag` for anything else.
 */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!match) {
    throw new Error(`${flag}: expected a duration such as 30d, 12h, 90m or 45s (a whole number and one of s, m, h, d, w), not ${JSON.stringify(text)}`);
  }
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms <= 0) throw new Error(`${flag}: must be longer than zero, not ${JSON.stringify(text)}`);
  if (!Number.isSafeInteger(ms * 1000)) throw new Error(`${flag}: ${JSON.stringify(text)} is too long`);
  return ms;
}
