import { type BaseSessionService, createEvent, type Event, type Session } from "@google/adk";

/**
 * One ADK session workload, run unchanged against ADK's own
 * InMemorySessionService and against RemoteSessionService. Every
 * observation is recorded under a step name so the test can compare the
 * services step by step.
 */

/** Event times: fixed, so both services see identical events (milliseconds, as ADK uses). */
export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

/** The events the scenario appends to session s1, fresh objects per call (appendEvent mutates them). */
export function scenarioEvents(): Event[] {
  return [
    createEvent({
      id: "e1",
      invocationId: "inv-1",
      author: "user",
      timestamp: T0,
      content: { role: "user", parts: [{ text: "hello" }] },
    }),
    createEvent({
      id: "e2",
      invocationId: "inv-1",
      author: "planner",
      branch: "root.planner",
      timestamp: T0 + 1000.25,
      content: { role: "model", parts: [{ functionCall: { id: "call-1", name: "lookup", args: { q: "cats", n: 3 } } }] },
      longRunningToolIds: ["call-1"],
      actions: {
        stateDelta: { topic: "dogs", "app:theme": "light", "user:visits": 1, "temp:scratch": "only now" },
        artifactDelta: { "report.pdf": 2 },
        transferToAgent: "writer",
        escalate: false,
        skipSummarization: true,
        requestedAuthConfigs: { "call-1": { authScheme: { type: "oauth2" }, credentialKey: "k1" } as never },
        requestedToolConfirmations: { "call-1": { hint: "confirm?", confirmed: false } as never },
        agentState: { step: 2 },
        endOfAgent: false,
      },
      groundingMetadata: { webSearchQueries: ["cats"] },
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 34 },
      customMetadata: { trace: "abc", nested: { ok: true } },
      finishReason: "STOP" as never,
      modelVersion: "gemini-x",
      turnComplete: false,
    }),
    createEvent({
      id: "e3-partial",
      invocationId: "inv-1",
      author: "writer",
      timestamp: T0 + 1500,
      partial: true,
      content: { role: "model", parts: [{ text: "stream" }] },
      actions: { stateDelta: { topic: "never stored" } },
    }),
    createEvent({
      id: "e4",
      invocationId: "inv-1",
      author: "writer",
      timestamp: T0 + 2000,
      content: { role: "model", parts: [{ text: "done" }] },
      actions: { stateDelta: { "user:visits": 2, draft: { words: 120 } } },
      turnComplete: true,
      errorCode: "",
      interrupted: true,
      output: { summary: "s" },
      nodeInfo: { path: "wf.writer", outputFor: ["wf.writer"] },
    }),
    createEvent({
      id: "e5",
      invocationId: "inv-2",
      author: "writer",
      timestamp: T0 + 3000,
      errorCode: "SAFETY",
      errorMessage: "blocked",
      actions: { stateDelta: { "temp:again": 1 } },
    }),
  ];
}

/** What one run observed, by step. */
export type Observations = Record<string, unknown>;

/** Runs the workload in a fresh app and returns what each call answered. */
export async function runScenario(service: BaseSessionService, appName: string): Promise<Observations> {
  const out: Observations = {};
  const s1 = await service.createSession({
    appName,
    userId: "u1",
    sessionId: "s1",
    state: { topic: "cats", "app:theme": "dark", "user:lang": "en", "temp:boot": true },
  });
  out.created = snapshot(s1);

  const returned: unknown[] = [];
  for (const event of scenarioEvents()) returned.push(clone(await service.appendEvent({ session: s1, event })));
  out.appendReturns = returned;
  out.liveSession = snapshot(s1);

  const key = { appName, userId: "u1", sessionId: "s1" };
  out.getAll = snapshot(await service.getSession(key));
  out.getRecent2 = snapshot(await service.getSession({ ...key, config: { numRecentEvents: 2 } }));
  out.getRecent0 = snapshot(await service.getSession({ ...key, config: { numRecentEvents: 0 } }));
  out.getAfter = snapshot(await service.getSession({ ...key, config: { afterTimestamp: T0 + 1000.25 } }));
  out.getRecentAfter = snapshot(await service.getSession({ ...key, config: { numRecentEvents: 3, afterTimestamp: T0 + 2000 } }));
  out.getMissing = await service.getSession({ ...key, sessionId: "nope" });

  const s2 = await service.createSession({ appName, userId: "u1", sessionId: "s2", state: { own: 1 } });
  out.secondSession = snapshot(s2);
  const s3 = await service.createSession({ appName, userId: "u2", sessionId: "s3" });
  out.otherUser = snapshot(s3);

  const all = await service.listSessions({ appName });
  out.list = { ...all, sessions: sortById(all.sessions).map(listed) };
  out.listStates = Object.fromEntries(all.sessions.map((s) => [s.id, clone(s.state)]));
  const mine = await service.listSessions({ appName, userId: "u1" });
  out.listUser = { ...mine, sessions: sortById(mine.sessions).map(listed) };
  const paged = await service.listSessions({ appName, limit: 2, page: 2 });
  out.listPaged = { ...paged, sessions: paged.sessions.map((s) => s.id).length };

  await service.deleteSession({ appName, userId: "u1", sessionId: "s2" });
  out.afterDelete = await service.getSession({ appName, userId: "u1", sessionId: "s2" });
  await service.deleteSession({ appName, userId: "u1", sessionId: "s2" });
  out.listAfterDelete = sortById((await service.listSessions({ appName })).sessions).map((s) => s.id);

  try {
    await service.createSession({ appName, userId: "u1", sessionId: "s1", state: { replaced: true } });
    out.createExisting = "accepted";
  } catch (error) {
    out.createExisting = `rejected: ${error instanceof Error ? error.message : String(error)}`;
  }
  out.afterCreateExisting = snapshot(await service.getSession(key));
  return out;
}

/** A session as plain data, without lastUpdateTime (the services' clocks legitimately differ). */
function snapshot(session: Session | undefined) {
  if (!session) return session;
  const { lastUpdateTime: _ignored, ...rest } = clone(session) as Session;
  return rest;
}

function listed(session: Session) {
  return { id: session.id, appName: session.appName, userId: session.userId, events: session.events };
}

function sortById(sessions: Session[]): Session[] {
  return [...sessions].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** A deep copy as plain JSON-like data (drops symbols and undefined members). */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
