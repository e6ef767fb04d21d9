import { benchName, sessionClient, type Workload } from "../context.js";
import { sessiondEvent } from "../events.js";
import { latency, type ResultRow } from "../report.js";
import { summarize } from "../stats.js";

/** How long the follower may take to send caught_up, and each append to arrive. */
const CAUGHT_UP_MS = 5000;
const ARRIVAL_MS = 2000;
/** Consecutive appends that never arrive before the workload gives up. */
const MAX_MISSES = 3;

/**
 * Workload 5: live-tail latency across processes. A follower streams
 * GetEvents with follow from server B while appends go through server A over
 * the same store; latency runs from the start of the append call to the
 * event's arrival at the follower. A store that two processes cannot share,
 * or a server without follow mode, yields an "unavailable" row.
 */
export const liveTail: Workload = async (ctx) => {
  const { options } = ctx;
  const base: ResultRow = { workload: "Live tail A→B", store: ctx.store.name, target: "p99 ≤ 100 ms" };
  if (!ctx.store.shared) return [{ ...base, note: "unavailable: the store is not shared between processes" }];

  const writer = await ctx.server("live-tail-a");
  const reader = await ctx.server("live-tail-b");
  const abort = new AbortController();
  try {
    const appender = sessionClient(writer.url);
    const follower = sessionClient(reader.url);
    const key = { appName: benchName("live_tail"), userId: "bench-user", sessionId: "s" };
    await appender.createSession(key);
    writer.resetPeak();
    reader.resetPeak();

    const arrivals = new Map<bigint, number>();
    const waiters = new Map<bigint, () => void>();
    let caughtUp: () => void = () => {};
    const caughtUpSeen = new Promise<void>((resolve) => (caughtUp = resolve));
    let ended = false;
    const stream = (async () => {
      try {
        for await (const res of follower.getEvents({ ...key, follow: true }, { signal: abort.signal })) {
          const now = performance.now();
          for (const e of res.events) {
            arrivals.set(e.sequence, now);
            waiters.get(e.sequence)?.();
          }
          if (res.caughtUp) caughtUp();
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      } finally {
        ended = true;
      }
    })();
    stream.catch(() => {});

    const ready = await Promise.race([caughtUpSeen.then(() => true), delay(CAUGHT_UP_MS).then(() => false)]);
    if (!ready) return [{ ...base, note: `unavailable: no caught_up within ${CAUGHT_UP_MS / 1000} s (follow mode missing?)` }];
    // A server with follow mode keeps the stream open after caught_up.
    await delay(200);
    if (ended) return [{ ...base, note: "unavailable: the follow stream ended after caught_up (follow mode not in this build)" }];

    const samples: number[] = [];
    let misses = 0;
    for (let i = 0; i < options.tailEvents && misses < MAX_MISSES; i++) {
      const start = performance.now();
      const { event } = await appender.appendEvent({ ...key, event: sessiondEvent(i) });
      const sequence = event!.sequence;
      const arrived = arrivals.has(sequence) || (await arrival(waiters, sequence, ARRIVAL_MS));
      waiters.delete(sequence);
      if (!arrived) {
        misses++;
        continue;
      }
      misses = 0;
      samples.push(arrivals.get(sequence)! - start);
      await delay(5);
    }
    const serverPeakMb = Math.max(writer.peakMb(), reader.peakMb());
    if (samples.length === 0) return [{ ...base, serverPeakMb, note: `unavailable: appends never reached the follower within ${ARRIVAL_MS} ms` }];
    const figure = summarize(samples);
    const note = misses >= MAX_MISSES ? `stopped after ${MAX_MISSES} appends did not arrive within ${ARRIVAL_MS} ms` : undefined;
    return [{ ...base, sessiond: latency(figure), met: figure.p99 <= 100 && note === undefined, serverPeakMb, note }];
  } finally {
    abort.abort();
    await Promise.all([writer.stop(), reader.stop()]);
  }
};

function arrival(waiters: Map<bigint, () => void>, sequence: bigint, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    waiters.set(sequence, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
