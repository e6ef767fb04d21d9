import { benchName, sessionClient, type Workload, warmupFor } from "../context.js";
import { ECHO_KINDS, ECHO_NAMES } from "../echo-servers.js";
import { sessiondEvent } from "../events.js";
import { appendEventFrames, echoFrames, leanAppendEvent, leanEcho } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { latency, type ResultRow } from "../report.js";
import { type LatencySummary, timeInterleaved } from "../stats.js";

const FLOOR_STORE = "memory:";

/**
 * Workload: the unary floor. AppendEvent of one event on a memory store,
 * through the lean client, sampled call by call beside the same event sent
 * to each echo server (bench/echo-servers.ts), and beside the typed client
 * (connect-node's gRPC transport and protobuf-es) end to end.
 */
export const unaryFloor: Workload = async (ctx) => {
  const { options } = ctx;
  const bounds = { warmup: warmupFor(options.iterations), iterations: options.iterations, maxSeconds: options.maxSeconds };
  const total = bounds.warmup + bounds.iterations;

  const server = await ctx.server("unary-floor", FLOOR_STORE);
  const echoes = await Promise.all(ECHO_KINDS.map((kind) => ctx.echoServer(`unary-floor-${kind}`, kind)));
  const typed = sessionClient(server.url);
  const key = { appName: benchName("unary_floor"), userId: "bench-user", sessionId: "s" };
  await typed.createSession(key);
  const lean = leanClient(server.url);
  const echoClients = echoes.map((echo) => leanClient(echo.url));
  const appends = appendEventFrames(key, 0, total);
  const echoed = echoFrames(0, total);
  server.resetPeak();
  const [sessiond, typedFigure, ...echoFigures] = (await timeInterleaved(bounds, [
    (i) => leanAppendEvent(lean, appends[i]!),
    (i) => typed.appendEvent({ ...key, event: sessiondEvent(total + i) }),
    ...echoClients.map((client) => (i: number) => leanEcho(client, echoed[i]!)),
  ])) as LatencySummary[];
  const serverPeakMb = server.peakMb();
  lean.close();
  for (const client of echoClients) client.close();
  await Promise.all([server.stop(), ...echoes.map((echo) => echo.stop())]);

  const workload = "AppendEvent (1 event), lean client";
  const grpcJs = echoFigures[ECHO_KINDS.indexOf("grpc-js")]!;
  const rows: ResultRow[] = ECHO_KINDS.map((kind, k) => {
    const ratio = sessiond!.p50 / echoFigures[k]!.p50;
    const targeted = kind === "grpc-js";
    return {
      workload,
      store: "memory",
      sessiond: latency(sessiond!),
      baseline: { name: ECHO_NAMES[kind], figure: latency(echoFigures[k]!) },
      ratio,
      target: targeted ? "≤ 1.3× grpc-js echo (p50)" : "–",
      met: targeted ? ratio <= 1.3 : undefined,
      serverPeakMb,
    };
  });
  rows.push({
    workload: "AppendEvent (1 event), typed client",
    store: "memory",
    sessiond: latency(typedFigure!),
    baseline: { name: ECHO_NAMES["grpc-js"], figure: latency(grpcJs) },
    ratio: typedFigure!.p50 / grpcJs.p50,
    target: "–",
    serverPeakMb,
    note: "end to end: connect-node gRPC transport and protobuf-es on the client",
  });
  return rows;
};
