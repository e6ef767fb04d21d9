/** Latency figures of one measured operation, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of ascending `sorted` values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50, p99 and mean of millisecond samples. */
export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Bounds of a measured loop: it stops at whichever comes first. */
export interface LoopBounds {
  /** Unmeasured calls first, to warm connections and JIT. */
  warmup: number;
  iterations: number;
  /** Measuring stops after this many seconds even if iterations remain. */
  maxSeconds: number;
}

/**
 * Runs `op` sequentially, timing each call after the warmup. `op` gets the
 * iteration number (warmup calls included) so it can vary ids.
 */
export async function timeLoop(bounds: LoopBounds, op: (i: number) => Promise<unknown>): Promise<LatencySummary> {
  return (await timeInterleaved(bounds, [op]))[0]!;
}

/**
 * Like {@link timeLoop} for several contenders at once: each iteration calls
 * every op in turn, so all of them are sampled under the same machine load.
 */
export async function timeInterleaved(bounds: LoopBounds, ops: ((i: number) => Promise<unknown>)[]): Promise<LatencySummary[]> {
  let i = 0;
  for (; i < bounds.warmup; i++) for (const op of ops) await op(i);
  const samples: number[][] = ops.map(() => []);
  const deadline = performance.now() + bounds.maxSeconds * 1000;
  for (let n = 0; n < bounds.iterations && performance.now() < deadline; n++, i++) {
    for (const [k, op] of ops.entries()) {
      const start = performance.now();
      await op(i);
      samples[k]!.push(performance.now() - start);
    }
  }
  return samples.map(summarize);
}

/**
 * Runs `clients` loops of `op` concurrently for `seconds`; returns the
 * completed calls and the seconds taken. `op` gets the client number.
 */
export async function rate(clients: number, seconds: number, op: (client: number) => Promise<unknown>): Promise<{ calls: number; seconds: number }> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let calls = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        await op(client);
        calls++;
      }
    }),
  );
  return { calls, seconds: (performance.now() - start) / 1000 };
}

/** A contender of {@link alternatingRates}: its call, and the CPU time (ms) of the server answering it. */
export interface RateContender {
  call: (client: number) => Promise<unknown>;
  serverCpuMs: () => number;
}

/** A contender's requests per second, and its server's CPU time per call in microseconds over its own slices. */
export interface RateFigure {
  perSecond: number;
  serverCpuUsPerCall: number;
}

/**
 * Requests per second of each contender, measured in alternating slices
 * that add up to `seconds` each, so load changes hit all of them alike.
 */
export async function alternatingRates(clients: number, seconds: number, slices: number, contenders: RateContender[]): Promise<RateFigure[]> {
  const totals = contenders.map(() => ({ calls: 0, seconds: 0, cpuMs: 0 }));
  for (let s = 0; s < slices; s++) {
    for (const [k, contender] of contenders.entries()) {
      const cpuBefore = contender.serverCpuMs();
      const r = await rate(clients, seconds / slices, contender.call);
      totals[k]!.cpuMs += contender.serverCpuMs() - cpuBefore;
      totals[k]!.calls += r.calls;
      totals[k]!.seconds += r.seconds;
    }
  }
  return totals.map((t) => ({ perSecond: t.calls / t.seconds, serverCpuUsPerCall: (t.cpuMs * 1000) / t.calls }));
}

/** Milliseconds since `start` (a performance.now() value). */
export const since = (start: number) => performance.now() - start;
