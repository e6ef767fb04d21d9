import { benchName, sessionClient, type Workload } from "../context.js";
import { sessiondEvent } from "../events.js";
import { getEventsFrame, leanGetEvents } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { type ResultRow, value } from "../report.js";
import { since } from "../stats.js";

const SEED_BATCH = 1000;
const CURSOR_ROWS = 1000;
const SLICES = 5;

/**
 * Workload 4: GetEvents streaming a large session, through the lean client
 * (events counted by tag) and the typed client (decoded), vs the raw
 * driver's cursor read of the same rows (JSON parsed), in rows per second,
 * plus the server's memory growth while it streams.
 */
export const replay: Workload = async (ctx) => {
  const { options } = ctx;
  const count = options.replayEvents;
  const { pg } = await ctx.baselines();

  const server = await ctx.server("replay");
  const client = sessionClient(server.url);
  const key = { appName: benchName("replay"), userId: "bench-user", sessionId: "s" };
  await client.createSession(key);

  // Several streams append batches concurrently; the server orders them.
  const seedStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: options.seedStreams }, async () => {
      while (next < count) {
        const first = next;
        const size = Math.min(SEED_BATCH, count - first);
        next += size;
        await client.appendEvents({ ...key, events: Array.from({ length: size }, (_, k) => sessiondEvent(first + k)) });
      }
    }),
  );
  const seedMs = since(seedStart);
  ctx.log(`replay: seeded ${count} events through AppendEvents in ${(seedMs / 1000).toFixed(1)} s`);

  const sessionId = benchName("raw_replay");
  const rawSeedMs = await pg.seed(sessionId, count);

  // Both read the session in the same alternating slices, so load changes hit both alike.
  const slices = Math.min(SLICES, count);
  const before = server.rssMb();
  server.resetPeak();
  const lean = leanClient(server.url);
  let streamMs = 0;
  let typedMs = 0;
  let rawMs = 0;
  let received = 0;
  let typedReceived = 0;
  let rawRows = 0;
  for (let s = 0; s < slices; s++) {
    const after = Math.floor((count * s) / slices);
    const upTo = Math.floor((count * (s + 1)) / slices);
    const request = { ...key, filter: { afterSequence: BigInt(after) }, limit: BigInt(upTo - after) };
    const frame = getEventsFrame(request);
    let start = performance.now();
    received += await leanGetEvents(lean, frame);
    streamMs += since(start);
    start = performance.now();
    for await (const res of client.getEvents(request)) typedReceived += res.events.length;
    typedMs += since(start);
    start = performance.now();
    rawRows += await pg.readRange(sessionId, after, upTo, CURSOR_ROWS);
    rawMs += since(start);
  }
  const growthMb = Math.max(0, server.peakMb() - before);
  const serverPeakMb = server.peakMb();
  lean.close();
  await server.stop();
  if (received !== count) throw new Error(`GetEvents streamed ${received} events, expected ${count}`);
  if (typedReceived !== count) throw new Error(`GetEvents (typed client) streamed ${typedReceived} events, expected ${count}`);
  if (rawRows !== count) throw new Error(`raw cursor read ${rawRows} rows, expected ${count}`);

  const rate = count / (streamMs / 1000);
  const typedRate = count / (typedMs / 1000);
  const rawRate = count / (rawMs / 1000);
  const workload = `GetEvents stream (${count.toLocaleString("en-US")} events)`;
  // The raw cursor is the bar for PostgreSQL itself; other stores get 0.8× of it.
  const min = ctx.store.name === "postgres" ? 1.0 : 0.8;
  const baseline = { name: `raw postgres cursor (${CURSOR_ROWS})`, figure: value(rawRate, "rows/s") };
  const rows: ResultRow[] = [
    {
      workload: `${workload}, lean client`,
      store: ctx.store.name,
      sessiond: value(rate, "rows/s"),
      baseline,
      ratio: rate / rawRate,
      target: `≥ ${min.toFixed(1)}× raw rows/s`,
      met: rate / rawRate >= min,
      serverPeakMb,
      note: `read in ${slices} alternating slices; seeding: sessiond ${(seedMs / 1000).toFixed(1)} s (AppendEvents ×${SEED_BATCH}, ${options.seedStreams} streams), raw ${(rawSeedMs / 1000).toFixed(1)} s`,
    },
    {
      workload: `${workload}, typed client`,
      store: ctx.store.name,
      sessiond: value(typedRate, "rows/s"),
      baseline,
      ratio: typedRate / rawRate,
      target: "–",
      serverPeakMb,
      note: "end to end: the typed client decodes every event with protobuf-es",
    },
    {
      workload: `${workload}: server RSS growth`,
      store: ctx.store.name,
      sessiond: value(growthMb, "MB"),
      target: "≤ 100 MB",
      met: growthMb <= 100,
      serverPeakMb,
      note: `RSS before stream ${Math.round(before)} MB`,
    },
  ];
  return rows;
};
