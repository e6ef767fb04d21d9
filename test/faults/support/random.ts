/** A seeded pseudo-random source (mulberry32): the same seed gives the same run. */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

/**
 * The suite's seed: $SESSIOND_FAULTS_SEED when set (to replay a run), else
 * a new one. Every file prints it, so a failure names the seed to replay.
 */
export function suiteSeed(): number {
  const given = process.env.SESSIOND_FAULTS_SEED;
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`SESSIOND_FAULTS_SEED must be an integer in [0, 2^32), not ${given}`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 32);
}

/** A {@link Random} for `seed`. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}
