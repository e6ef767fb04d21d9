import { createEvent } from "@google/adk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteSessionService, SessionNotFoundError, StaleSessionError } from "../../src/adk/index.js";
import { openStore } from "../../src/stores/open.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";
import { testStores } from "../support/stores.js";

/** Every store: the rewind below restores a value of the initial state. */
const STORES = ["memory", "sqlite", "postgres", "mysql", "redis"];

for (const storeName of STORES) {
  describe(`RemoteSessionService.rewind over the ${storeName} store (Python ADK's Runner.rewind_async)`, () => {
    let running: TestServer;
    let cleanup: () => Promise<void>;
    let raw: RemoteSessionService;
    let effective: RemoteSessionService;

    beforeAll(async () => {
      const isolated = await testStores[storeName]!();
      cleanup = isolated.cleanup;
      running = await startTestServer(await openStore(isolated.url));
      raw = new RemoteSessionService(running.server.url);
      effective = new RemoteSessionService(running.server.url, { history: "effective" });
    });
    afterAll(async () => {
      await raw?.close();
      await effective?.close();
      await running?.close();
      await cleanup?.();
    });

    it("appends a marker that restores the session state as of before the invocation", async () => {
      const appName = uniqueName("adk-rewind");
      const session = await raw.createSession({ appName, userId: "u", state: { count: 0, "user:name": "Ann" } });
      const ref = { appName, userId: "u", sessionId: session.id };
      const turn = (id: string, invocationId: string, stateDelta: Record<string, unknown>) =>
        createEvent({ id, invocationId, author: "agent", content: { role: "model", parts: [{ text: id }] }, actions: { stateDelta } });
      await raw.appendEvent({ session, event: turn("a1", "inv-1", { count: 1, "app:seen": 1 }) });
      await raw.appendEvent({ session, event: turn("b1", "inv-2", { count: 2, note: "x", "user:name": "Bo", "temp:t": 1 }) });
      await raw.appendEvent({ session, event: turn("b2", "inv-2", { count: 3 }) });

      const marker = await raw.rewind({ ...ref, rewindBeforeInvocationId: "inv-2" });
      expect(marker.author).toBe("user");
      expect(marker.invocationId).toMatch(/^e-/);
      expect(marker.actions).toMatchObject({ rewindBeforeInvocationId: "inv-2", stateDelta: { count: 1, note: null } });

      const rawSession = (await raw.getSession(ref))!;
      expect(rawSession.events.map((e) => e.id)).toEqual(["a1", "b1", "b2", marker.id]);
      // Shared state stays: it belongs to the user's and the app's other sessions too.
      expect(rawSession.state).toEqual({ count: 1, "app:seen": 1, "user:name": "Bo" });
      const effectiveSession = (await effective.getSession(ref))!;
      expect(effectiveSession.events.map((e) => e.id)).toEqual(["a1"]);
      expect(effectiveSession.state).toEqual(rawSession.state);

      // The session object from before the rewind is stale; a reloaded one appends.
      await expect(raw.appendEvent({ session, event: turn("late", "inv-3", {}) })).rejects.toBeInstanceOf(StaleSessionError);
      await effective.appendEvent({ session: effectiveSession, event: turn("c1", "inv-3", { count: 5 }) });
      expect((await effective.getSession(ref))!.events.map((e) => e.id)).toEqual(["a1", "c1"]);

      // Rewinding to before the first invocation restores the initial state.
      await raw.rewind({ ...ref, rewindBeforeInvocationId: "inv-1" });
      const start = (await effective.getSession(ref))!;
      expect(start.events).toEqual([]);
      expect(start.state).toEqual({ count: 0, "app:seen": 1, "user:name": "Bo" });
    });

    it("fails like Python ADK for an unknown invocation or session", async () => {
      const appName = uniqueName("adk-rewind");
      const session = await raw.createSession({ appName, userId: "u" });
      const ref = { appName, userId: "u", sessionId: session.id };
      await expect(raw.rewind({ ...ref, rewindBeforeInvocationId: "nope" })).rejects.toThrow("Invocation ID not found: nope");
      await expect(raw.rewind({ ...ref, sessionId: "missing", rewindBeforeInvocationId: "x" })).rejects.toBeInstanceOf(SessionNotFoundError);
      expect((await raw.getSession(ref))!.events).toEqual([]);
    });
  });
}
