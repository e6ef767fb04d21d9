import { benchName, sessionClient, type Workload } from "../context.js";
import { ECHO_NAMES, type EchoKind } from "../echo-servers.js";
import { appendEventFrames, echoFrames, leanAppendEvent, leanEcho } from "../lean-calls.js";
import { leanClient } from "../lean-client.js";
import { type ResultRow, value } from "../report.js";
import { alternatingRates, type RateFigure, rate } from "../stats.js";

const THROUGHPUT_STORE = "memory:";
/** Distinct requests each client cycles through (the server assigns ids, so repeats are fine). */
const FRAMES_PER_CLIENT = 16;

/**
 * Workload: many concurrent lean clients (one HTTP/2 connection each)
 * appending to distinct sessions of a memory store vs the same clients
 * calling the grpc-js, the connect-node and the bare node:http2 echo
 * servers, in alternating slices; requests per second, and each server's
 * CPU time per call, which bounds them (each server has one event loop).
 */
export const throughput: Workload = async (ctx) => {
  const { clients, seconds } = ctx.options;
  const warmupSeconds = Math.min(2, seconds / 3);

  const server = await ctx.server("throughput", THROUGHPUT_STORE);
  const setup = sessionClient(server.url);
  const appName = benchName("throughput");
  const frames = await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const key = { appName, userId: `user-${c}`, sessionId: "s" };
      await setup.createSession(key);
      return appendEventFrames(key, c * FRAMES_PER_CLIENT, FRAMES_PER_CLIENT);
    }),
  );
  // The quick run keeps to the targeted baseline; the bare node:http2 echo is the runtime's floor, for reference.
  const kinds: EchoKind[] = ctx.options.quick ? ["grpc-js"] : ["grpc-js", "connect", "http2"];
  const echoes = await Promise.all(kinds.map((kind) => ctx.echoServer(`throughput-${kind}`, kind)));
  const echoed = echoFrames(0, FRAMES_PER_CLIENT);
  const sessiondClients = Array.from({ length: clients }, () => leanClient(server.url));
  const echoClients = echoes.map((echo) => Array.from({ length: clients }, () => leanClient(echo.url)));
  let n = 0;
  const append = (c: number) => leanAppendEvent(sessiondClients[c]!, frames[c]![n++ % FRAMES_PER_CLIENT]!);
  const echoCalls = echoClients.map((list) => (c: number) => leanEcho(list[c]!, echoed[n++ % FRAMES_PER_CLIENT]!));
  for (const op of [append, ...echoCalls]) await rate(clients, warmupSeconds, op);
  server.resetPeak();
  for (const echo of echoes) echo.resetPeak();
  const [sessiond, ...echoRates] = await alternatingRates(clients, seconds, Math.min(5, seconds), [
    { call: append, serverCpuMs: server.cpuMs },
    ...echoCalls.map((call, k) => ({ call, serverCpuMs: echoes[k]!.cpuMs })),
  ]);
  const serverPeakMb = server.peakMb();
  const echoPeaks = echoes.map((echo) => Math.round(echo.peakMb()));
  for (const client of [...sessiondClients, ...echoClients.flat()]) client.close();
  await Promise.all([server.stop(), ...echoes.map((echo) => echo.stop())]);

  const targets: Partial<Record<EchoKind, { text: string; min: number }>> = {
    "grpc-js": { text: "≥ 1.0× grpc-js echo", min: 1.0 },
    connect: { text: "≥ 0.7× connect-node echo", min: 0.7 },
  };
  return kinds.map((kind, k): ResultRow => {
    const echoRate = echoRates[k]!;
    const ratio = sessiond!.perSecond / echoRate.perSecond;
    const target = targets[kind];
    return {
      workload: `AppendEvent, ${clients} clients, lean client`,
      store: "memory",
      sessiond: value(sessiond!.perSecond, "req/s"),
      baseline: { name: ECHO_NAMES[kind], figure: value(echoRate.perSecond, "req/s") },
      ratio,
      target: target?.text ?? "–",
      met: target && ratio >= target.min,
      serverPeakMb,
      note:
        `${seconds} s per side in alternating slices; echo server peak ${echoPeaks[k]} MB; ` +
        `server CPU per call ${cpuUs(sessiond!)} (sessiond), ${cpuUs(echoRate)} (echo)`,
    };
  });
};

/** A server's CPU time per call, all its threads counted. */
function cpuUs(figure: RateFigure): string {
  return `${figure.serverCpuUsPerCall.toFixed(0)} µs`;
}
