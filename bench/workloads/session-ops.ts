import {
  CreateSessionRequestSchema,
  GetSessionRequestSchema,
  ListSessionsRequestSchema,
  SessionService,
  UpdateSessionRequestSchema,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { benchName, sessionClient, type Workload, warmupFor } from "../context.js";
import { sessiondEvent } from "../events.js";
import { frameMessage, grpcPath, leanClient } from "../lean-client.js";
import { latency, type ResultRow } from "../report.js";
import { type LatencySummary, timeInterleaved } from "../stats.js";

const CREATE = grpcPath(SessionService, "CreateSession");
const GET = grpcPath(SessionService, "GetSession");
const UPDATE = grpcPath(SessionService, "UpdateSession");
const LIST = grpcPath(SessionService, "ListSessions");

/** Sessions in the listed app, and events in the session read by GetSession. */
const LISTED_SESSIONS = 200;
const SESSION_EVENTS = 20;

/**
 * Session calls: the session calls beside appends and replay, one at a time
 * through the lean client: CreateSession (with a state delta), GetSession
 * of a 20-event session, UpdateSession (metadata) and a 20-session page of
 * ListSessions. Their latency is mostly the store's round trips, so this
 * is where a store change shows; there is no baseline, the figures are
 * compared across runs.
 */
export const sessionOps: Workload = async (ctx) => {
  const { options } = ctx;
  const bounds = { warmup: warmupFor(options.iterations), iterations: options.iterations, maxSeconds: options.maxSeconds };
  const server = await ctx.server("session-ops");
  const client = sessionClient(server.url);
  const lean = leanClient(server.url);
  const appName = benchName("session_ops");
  const key = { appName, userId: "bench-user", sessionId: "read" };
  await client.createSession(key);
  await client.appendEvents({ ...key, events: Array.from({ length: SESSION_EVENTS }, (_, i) => sessiondEvent(i)) });
  for (let i = 0; i < LISTED_SESSIONS; i++) await client.createSession({ appName, userId: `user-${i % 10}`, sessionId: `listed-${i}` });
  const total = bounds.warmup + bounds.iterations;
  const state = { step: 1, "user:seen": true };
  const creates = Array.from({ length: total }, (_, i) =>
    frameMessage(CreateSessionRequestSchema, { appName, userId: "bench-new", sessionId: `new-${i}`, state }),
  );
  const get = frameMessage(GetSessionRequestSchema, key);
  const updates = Array.from({ length: total }, (_, i) =>
    frameMessage(UpdateSessionRequestSchema, { ...key, metadata: { n: i } }),
  );
  const list = frameMessage(ListSessionsRequestSchema, { appName, pageSize: 20 });
  server.resetPeak();
  const figures = (await timeInterleaved(bounds, [
    (i) => lean.unary(CREATE, creates[i]!),
    () => lean.unary(GET, get),
    (i) => lean.unary(UPDATE, updates[i]!),
    () => lean.unary(LIST, list),
  ])) as LatencySummary[];
  const serverPeakMb = server.peakMb();
  lean.close();
  await server.stop();
  const names = ["CreateSession (session and user state)", `GetSession (${SESSION_EVENTS} events)`, "UpdateSession (metadata)", "ListSessions (page of 20)"];
  return names.map(
    (name, i): ResultRow => ({ workload: `${name}, lean client`, store: ctx.store.name, sessiond: latency(figures[i]!), target: "–", serverPeakMb }),
  );
};
