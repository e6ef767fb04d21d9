import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { type Event, EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { benchName, grpcTransport, sessionClient, type Workload } from "../context.js";
import { EchoService } from "../echo-service.js";
import { sessiondEvent } from "../events.js";
import { type ResultRow, value } from "../report.js";
import { alternatingRates, rate } from "../stats.js";

const THROUGHPUT_STORE = "memory:";

interface EchoClient {
  echo(request: MessageInitShape<typeof EventSchema>): Promise<Event>;
}

/**
 * Workload 6: many concurrent clients appending to distinct sessions of a
 * memory store vs the same clients calling a bare echo service in the same
 * kind of server process over the same transport; requests per second.
 */
export const throughput: Workload = async (ctx) => {
  const { clients, seconds } = ctx.options;
  const warmupSeconds = Math.min(2, seconds / 3);

  const server = await ctx.server("throughput", THROUGHPUT_STORE);
  const sessionClients = Array.from({ length: clients }, () => sessionClient(server.url));
  const appName = benchName("throughput");
  const keys = await Promise.all(
    sessionClients.map(async (client, c) => {
      const key = { appName, userId: `user-${c}`, sessionId: "s" };
      await client.createSession(key);
      return key;
    }),
  );
  const echo = await ctx.echoServer("throughput-echo");
  const echoClients = Array.from(
    { length: clients },
    () => createClient(EchoService, grpcTransport(echo.url)) as unknown as EchoClient,
  );
  let n = 0;
  const append = (c: number) => sessionClients[c]!.appendEvent({ ...keys[c]!, event: sessiondEvent(n++) });
  // The echo request is the same event as a message, so both sides send equal payloads.
  const call = (c: number) => echoClients[c]!.echo(create(EventSchema, sessiondEvent(n++)));
  await rate(clients, warmupSeconds, append);
  await rate(clients, warmupSeconds, call);
  server.resetPeak();
  echo.resetPeak();
  const [sessiond, echoRate] = (await alternatingRates(clients, seconds, Math.min(5, seconds), [append, call])) as [number, number];
  const serverPeakMb = server.peakMb();
  const echoPeakMb = echo.peakMb();
  await Promise.all([server.stop(), echo.stop()]);

  const ratio = sessiond / echoRate;
  const row: ResultRow = {
    workload: `AppendEvent, ${clients} clients`,
    store: "memory",
    sessiond: value(sessiond, "req/s"),
    baseline: { name: "connect-node echo", figure: value(echoRate, "req/s") },
    ratio,
    target: "≥ 0.7× echo",
    met: ratio >= 0.7,
    serverPeakMb,
    note: `${seconds} s per side in alternating slices; echo server peak ${Math.round(echoPeakMb)} MB`,
  };
  return [row];
};
