import { createConnectTransport } from "@connectrpc/connect-node";
import { createEvent, InMemorySessionService } from "@google/adk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteSessionService } from "../../src/adk/index.js";
import { timestampFromUs } from "../../src/api/convert.js";
import { openStore } from "../../src/stores/open.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";
import { testStores } from "../support/stores.js";
import { clone, type Observations, runScenario, T0 } from "./scenario.js";

/**
 * The same workload against ADK's InMemorySessionService and against
 * RemoteSessionService over a real server. Steps where the two must agree
 * are compared whole; the steps where RemoteSessionService follows the
 * Python ADK instead of ADK JS are checked value by value on both sides.
 */

/** Steps whose observations must be identical. */
const SAME = [
  "created",
  "appendReturns",
  "getAll",
  "getRecent2",
  "getAfter",
  "getRecentAfter",
  "getMissing",
  "otherUser",
  "list",
  "listUser",
  "listPaged",
  "afterDelete",
  "listAfterDelete",
];

const STORES = ["memory", "sqlite", "postgres"];

/** One app name for every run: each store is fresh, and app names show up in the observations. */
const APP = uniqueName("adk");
let reference: Observations;

beforeAll(async () => {
  reference = await runScenario(new InMemorySessionService(), APP);
});

for (const storeName of STORES) {
  describe(`RemoteSessionService over the ${storeName} store`, () => {
    let running: TestServer;
    let cleanup: () => Promise<void>;
    let remote: Observations;
    let service: RemoteSessionService;

    beforeAll(async () => {
      const isolated = await testStores[storeName]!();
      cleanup = isolated.cleanup;
      running = await startTestServer(await openStore(isolated.url));
      service = new RemoteSessionService(running.server.url);
      remote = await runScenario(service, APP);
    });
    afterAll(async () => {
      await running?.close();
      await cleanup?.();
    });

    it.each(SAME)("answers %s exactly like InMemorySessionService", (step) => {
      expect(remote[step]).toEqual(reference[step]);
    });

    it("maps every event field both ways", () => {
      const events = (remote.getAll as { events: Record<string, unknown>[] }).events;
      expect(events.map((e) => e.id)).toEqual(["e1", "e2", "e4", "e5"]);
      expect(events[1]).toMatchObject({
        branch: "root.planner",
        timestamp: T0 + 1000.25,
        turnComplete: false,
        longRunningToolIds: ["call-1"],
        modelVersion: "gemini-x",
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 34 },
        actions: {
          stateDelta: { topic: "dogs", "app:theme": "light", "user:visits": 1 },
          artifactDelta: { "report.pdf": 2 },
          transferToAgent: "writer",
          escalate: false,
          skipSummarization: true,
          agentState: { step: 2 },
          endOfAgent: false,
        },
      });
      expect(events[2]).toMatchObject({ errorCode: "", interrupted: true, turnComplete: true, output: { summary: "s" } });
      expect(events[3]).toMatchObject({ errorCode: "SAFETY", errorMessage: "blocked" });
    });

    it("stores ADK-only fields where other sessiond clients find them", async () => {
      const { session } = await running.client.getSession({ appName: APP, userId: "u1", sessionId: "s1" });
      const e2 = session!.events.find((e) => e.id === "e2")!;
      expect(e2.timestamp).toEqual(timestampFromUs((T0 + 1000) * 1000 + 250));
      expect(e2.actions!.stateDelta).toEqual({ topic: "dogs", "app:theme": "light", "user:visits": 1 });
      expect(Object.keys(e2.actions!.custom!).sort()).toEqual(["agentState", "endOfAgent", "requestedAuthConfigs", "requestedToolConfirmations"]);
      expect(e2.metadata).toMatchObject({ usageMetadata: { promptTokenCount: 12 }, customMetadata: { trace: "abc" }, "adk:exact": { turnComplete: false } });
      const e5 = session!.events.find((e) => e.id === "e5")!;
      expect(e5.actions!.stateDelta).toBeUndefined();
      expect(e5.metadata).toBeUndefined();
    });

    it("keeps temp: keys on the live session only (Python ADK), like ADK JS otherwise", () => {
      const live = remote.liveSession as { state: Record<string, unknown>; events: unknown[] };
      const jsLive = reference.liveSession as { state: Record<string, unknown>; events: unknown[] };
      expect(live.events).toEqual(jsLive.events);
      expect(jsLive.state).toEqual({ topic: "dogs", "app:theme": "light", "user:lang": "en", "user:visits": 2, draft: { words: 120 } });
      expect(live.state).toEqual({ ...jsLive.state, "temp:scratch": "only now", "temp:again": 1 });
      expect((remote.getAll as { state: object }).state).toEqual(jsLive.state);
    });

    it("shares app: and user: keys of the initial state with other sessions (Python ADK)", () => {
      // ADK JS keeps them in the creating session only.
      expect(reference.secondSession).toMatchObject({ state: { own: 1, "app:theme": "light", "user:visits": 2 } });
      expect((reference.secondSession as { state: object }).state).not.toHaveProperty("user:lang");
      expect(remote.secondSession).toEqual({
        ...(reference.secondSession as object),
        state: { own: 1, "app:theme": "light", "user:visits": 2, "user:lang": "en" },
      });
    });

    it("lists sessions with their merged state (Python ADK)", () => {
      expect(reference.listStates).toEqual({ s1: {}, s2: {}, s3: {} });
      expect(remote.listStates).toEqual({
        s1: { topic: "dogs", draft: { words: 120 }, "app:theme": "light", "user:lang": "en", "user:visits": 2 },
        s2: { own: 1, "app:theme": "light", "user:lang": "en", "user:visits": 2 },
        s3: { "app:theme": "light" },
      });
    });

    it("rejects creating a session whose id is taken (Python ADK), where ADK JS replaces it", () => {
      expect(reference.createExisting).toBe("accepted");
      expect(reference.afterCreateExisting).toMatchObject({ events: [], state: { replaced: true } });
      expect(remote.createExisting).toMatch(/^rejected: .*already exists/);
      expect(remote.afterCreateExisting).toEqual(remote.getAll);
    });

    it("reads no events for numRecentEvents 0 (Python ADK), where ADK JS reads them all", () => {
      const all = reference.getAll as { events: unknown[] };
      expect(reference.getRecent0).toEqual(all);
      expect(remote.getRecent0).toEqual({ ...all, events: [] });
    });

    it("stores nothing for partial events and deletes keys set to null", async () => {
      const appName = uniqueName("adk");
      const session = await service.createSession({ appName, userId: "u", state: { keep: 1, drop: 2 } });
      await service.appendEvent({ session, event: createEvent({ partial: true, actions: { stateDelta: { keep: 9 } } }) });
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: { drop: null } } }) });
      // The live object follows ADK (the key holds null); the stored state follows sessiond (the key is gone).
      expect(session.state).toEqual({ keep: 1, drop: null });
      const stored = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(stored!.state).toEqual({ keep: 1 });
      expect(stored!.events).toHaveLength(1);
    });

    it("sends the bearer token and works over any transport", async () => {
      const seen: (string | null)[] = [];
      const withToken = new RemoteSessionService(
        createConnectTransport({
          baseUrl: running.server.url,
          httpVersion: "1.1",
          interceptors: [(next) => async (req) => (seen.push(req.header.get("authorization")), next(req))],
        }),
        { token: "s3cret" },
      );
      const session = await withToken.createSession({ appName: uniqueName("adk"), userId: "u" });
      expect(clone(session.events)).toEqual([]);
      expect(seen).toEqual(["Bearer s3cret"]);
    });
  });
}
