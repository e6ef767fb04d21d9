import { benchName, sessionClient, type Workload, warmupFor } from "../context.js";
import { adkEvent, rawEventRow, sessiondEvent } from "../events.js";
import { appendEventFrames, leanAppendEvent } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { APPEND_STATEMENTS, statementNote, statementProbe } from "../pg-statements.js";
import { latency, type ResultRow } from "../report.js";
import { type LatencySummary, timeInterleaved } from "../stats.js";

/**
 * Workload 2: AppendEvent of one event, through the lean client and the
 * typed client, vs a raw single-row insert and vs ADK's
 * DatabaseSessionService.appendEvent.
 */
export const appendOne: Workload = async (ctx) => {
  const { options } = ctx;
  const bounds = { warmup: warmupFor(options.iterations), iterations: options.iterations, maxSeconds: options.maxSeconds };
  const { pg, adk } = await ctx.baselines();

  const server = await ctx.server("append-one");
  const client = sessionClient(server.url);
  const lean = leanClient(server.url);
  const key = { appName: benchName("append_one"), userId: "bench-user", sessionId: "s" };
  await client.createSession(key);
  const adkBounds = { warmup: warmupFor(options.adkIterations), iterations: options.adkIterations, maxSeconds: options.maxSeconds };
  const total = bounds.warmup + bounds.iterations;
  const frames = appendEventFrames(key, 0, total + adkBounds.warmup + adkBounds.iterations);
  const sessionId = benchName("raw_one");
  let sequence = 0;
  // Counted from here: the setup above is not part of the comparison.
  const statements = await statementProbe(pg.sql);
  server.resetPeak();
  const [sessiond, typed, raw] = (await timeInterleaved(bounds, [
    (i) => leanAppendEvent(lean, frames[i]!),
    (i) => client.appendEvent({ ...key, event: sessiondEvent(i) }),
    (i) => pg.insertOne(rawEventRow(sessionId, ++sequence, i)),
  ])) as [LatencySummary, LatencySummary, LatencySummary];
  const split = statements && statementNote(await statements.read(APPEND_STATEMENTS));

  // ADK is slower, so it gets fewer calls; sessiond is sampled alongside again for its ratio.
  const session = await adk.createSession(benchName("adk_one"));
  const [sessiondBeside, adkFigure] = (await timeInterleaved(adkBounds, [
    (i) => leanAppendEvent(lean, frames[total + i]!),
    (i) => adk.service.appendEvent({ session, event: adkEvent(i) as never }),
  ])) as [LatencySummary, LatencySummary];
  const serverPeakMb = server.peakMb();
  lean.close();
  await server.stop();

  const vsRaw = sessiond.p50 / raw.p50;
  const vsAdk = adkFigure.p50 / sessiondBeside.p50;
  return [
    {
      workload: "AppendEvent (1 event), lean client",
      store: ctx.store.name,
      sessiond: latency(sessiond),
      baseline: { name: "raw postgres insert", figure: latency(raw) },
      ratio: vsRaw,
      target: "≤ 2.5× raw (p50)",
      met: vsRaw <= 2.5,
      serverPeakMb,
      note: split,
    },
    {
      workload: "AppendEvent (1 event), lean client",
      store: ctx.store.name,
      sessiond: latency(sessiondBeside),
      baseline: { name: "ADK DatabaseSessionService", figure: latency(adkFigure) },
      ratio: vsAdk,
      target: "ADK/sessiond ≥ 4× (p50)",
      met: vsAdk >= 4,
      serverPeakMb,
    },
    {
      workload: "AppendEvent (1 event), typed client",
      store: ctx.store.name,
      sessiond: latency(typed),
      baseline: { name: "raw postgres insert", figure: latency(raw) },
      ratio: typed.p50 / raw.p50,
      target: "–",
      serverPeakMb,
      note: "end to end: connect-node gRPC transport and protobuf-es on the client",
    },
  ] satisfies ResultRow[];
};
