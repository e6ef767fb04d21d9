import { benchName, sessionClient, type Workload, warmupFor } from "../context.js";
import { rawEventRow, sessiondEvent } from "../events.js";
import { appendEventsFrames, leanAppendEvents } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { APPEND_STATEMENTS, statementNote, statementProbe } from "../pg-statements.js";
import { latency, type ResultRow } from "../report.js";
import { type LatencySummary, timeInterleaved } from "../stats.js";

/**
 * Workload 1: AppendEvents of a batch over gRPC, through the lean client and
 * the typed client, vs the raw driver inserting the same rows in one transaction.
 */
export const appendBatch: Workload = async (ctx) => {
  const { options } = ctx;
  const n = options.batchEvents;
  const bounds = { warmup: warmupFor(options.iterations), iterations: options.iterations, maxSeconds: options.maxSeconds };
  const { pg } = await ctx.baselines();

  const server = await ctx.server("append-batch");
  const client = sessionClient(server.url);
  const lean = leanClient(server.url);
  const key = { appName: benchName("append_batch"), userId: "bench-user", sessionId: "s" };
  await client.createSession(key);
  const frames = appendEventsFrames(key, bounds.warmup + bounds.iterations, n);
  const sessionId = benchName("raw_batch");
  let sequence = 0;
  // Counted from here: the setup above is not part of the comparison.
  const statements = await statementProbe(pg.sql);
  server.resetPeak();
  const [sessiond, typed, raw] = (await timeInterleaved(bounds, [
    (i) => leanAppendEvents(lean, frames[i]!),
    (i) => client.appendEvents({ ...key, events: Array.from({ length: n }, (_, k) => sessiondEvent(i * n + k)) }),
    (i) => pg.insertBatch(Array.from({ length: n }, (_, k) => rawEventRow(sessionId, ++sequence, i * n + k))),
  ])) as [LatencySummary, LatencySummary, LatencySummary];
  const split = statements && statementNote(await statements.read(APPEND_STATEMENTS));
  const serverPeakMb = server.peakMb();
  lean.close();
  await server.stop();

  const ratio = sessiond.p50 / raw.p50;
  return [
    {
      workload: `AppendEvents (${n} events), lean client`,
      store: ctx.store.name,
      sessiond: latency(sessiond),
      baseline: { name: "raw postgres, 1 tx", figure: latency(raw) },
      ratio,
      target: "≤ 1.5× raw (p50)",
      met: ratio <= 1.5,
      serverPeakMb,
      note: split,
    },
    {
      workload: `AppendEvents (${n} events), typed client`,
      store: ctx.store.name,
      sessiond: latency(typed),
      baseline: { name: "raw postgres, 1 tx", figure: latency(raw) },
      ratio: typed.p50 / raw.p50,
      target: "–",
      serverPeakMb,
      note: "end to end: connect-node gRPC transport and protobuf-es on the client",
    },
  ] satisfies ResultRow[];
};
