import { benchName, sessionClient, type Workload, warmupFor } from "../context.js";
import { ADK_USER } from "../adk.js";
import { sessiondEvent } from "../events.js";
import { getSessionFrame, leanGetSession } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { latency, type ResultRow } from "../report.js";
import { type LatencySummary, since, timeInterleaved } from "../stats.js";

/**
 * Workload 3: GetSession of a session with many events, through the lean
 * client (events counted by tag) and the typed client (decoded), vs ADK's
 * getSession of the same shape.
 */
export const getSession: Workload = async (ctx) => {
  const { options } = ctx;
  const count = options.sessionEvents;
  const bounds = { warmup: warmupFor(options.adkIterations), iterations: options.adkIterations, maxSeconds: options.maxSeconds };
  const { adk } = await ctx.baselines();

  const server = await ctx.server("get-session");
  const client = sessionClient(server.url);
  const key = { appName: benchName("get_session"), userId: "bench-user", sessionId: "s" };
  await client.createSession(key);
  const seedStart = performance.now();
  for (let i = 0; i < count; i += 1000) {
    await client.appendEvents({ ...key, events: Array.from({ length: Math.min(1000, count - i) }, (_, k) => sessiondEvent(i + k)) });
  }
  const seedMs = since(seedStart);
  const appName = benchName("adk_get");
  const seeded = await adk.seedSession(appName, count);
  const lean = leanClient(server.url);
  const frame = getSessionFrame(key);
  server.resetPeak();
  const [sessiond, typed, adkFigure] = (await timeInterleaved(bounds, [
    async () => {
      const events = await leanGetSession(lean, frame);
      if (events !== count) throw new Error(`GetSession returned ${events} events, expected ${count}`);
    },
    async () => {
      const { session } = await client.getSession(key);
      if (session?.events.length !== count) throw new Error(`GetSession returned ${session?.events.length} events, expected ${count}`);
    },
    async () => {
      const session = await adk.service.getSession({ appName, userId: ADK_USER, sessionId: seeded.sessionId });
      if (session?.events.length !== count) throw new Error(`ADK getSession returned ${session?.events.length} events, expected ${count}`);
    },
  ])) as [LatencySummary, LatencySummary, LatencySummary];
  const serverPeakMb = server.peakMb();
  lean.close();
  await server.stop();

  const ratio = adkFigure.p50 / sessiond.p50;
  const seeding = `seeding: sessiond ${(seedMs / 1000).toFixed(1)} s (AppendEvents), ADK ${(seeded.millis / 1000).toFixed(1)} s (bulk copy of an appended row)`;
  const typedRow: ResultRow = {
    workload: `GetSession (${count} events), typed client`,
    store: ctx.store.name,
    sessiond: latency(typed),
    baseline: { name: "ADK getSession", figure: latency(adkFigure) },
    ratio: adkFigure.p50 / typed.p50,
    target: "–",
    serverPeakMb,
    note: "end to end: the typed client decodes every event with protobuf-es",
  };
  const row: ResultRow = {
    workload: `GetSession (${count} events), lean client`,
    store: ctx.store.name,
    sessiond: latency(sessiond),
    baseline: { name: "ADK getSession", figure: latency(adkFigure) },
    ratio,
    target: "ADK/sessiond ≥ 5× (p50)",
    met: ratio >= 5,
    serverPeakMb,
    note: seeding,
  };
  return [row, typedRow];
};
