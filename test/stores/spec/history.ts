import { describe, expect, it } from "vitest";
import type { ForkPlan, SessionKey } from "../../../src/core/types.js";
import { readMarkers } from "../../../src/api/private/history.js";
import { appendEvents, create, event, freshKey, pending, rejection, type StoreSpecContext } from "./context.js";

/** Initial states and forks, the store operations behind RewindSession and ForkSession. */
export function historySpecs(ctx: StoreSpecContext): void {
  describe("initial state and forks", () => {
    const plan = (source: SessionKey, target: SessionKey, fields: Partial<ForkPlan> = {}): ForkPlan => ({
      source,
      target,
      ranges: [],
      throughSequence: 0,
      state: {},
      initialState: null,
      agentId: "agent",
      metadata: { m: 1 },
      forkedFrom: { sessionId: source.sessionId, userId: source.userId, sequence: 0 },
      nowUs: 9_000_000,
      ...fields,
    });

    it("records the session-scoped initial state, and none for a restored session", async () => {
      const key = freshKey();
      await create(ctx.store, key, { topic: "t", "app:a": 1, "user:b": 2 });
      await appendEvents(ctx.store, key, 2);
      expect(await ctx.store.readInitialState!(key)).toEqual({ topic: "t" });
      const empty = freshKey();
      await create(ctx.store, empty);
      expect(await ctx.store.readInitialState!(empty)).toEqual({});
      const restored = freshKey();
      await ctx.store.restoreSession({
        appName: restored.appName,
        userId: restored.userId,
        id: restored.sessionId,
        agentId: "",
        status: "active",
        state: { x: 1 },
        metadata: {},
        createTimeUs: 1,
        updateTimeUs: 1,
        lastSequence: 0,
      });
      expect(await ctx.store.readInitialState!(restored)).toBeNull();
      await rejection(ctx.store.readInitialState!(freshKey()), "not_found");
    });

    it("forks ranges renumbered from 1 with the planned state, lineage and initial state", async () => {
      const source = freshKey();
      await create(ctx.store, source, { "user:u": 1 });
      const events = await appendEvents(ctx.store, source, 6);
      const target = { ...source, userId: "other", sessionId: `${source.sessionId}-fork` };
      const forkedFrom = { sessionId: source.sessionId, userId: source.userId, sequence: 5 };
      const view = await ctx.store.forkSession!(
        plan(source, target, {
          ranges: [
            { first: 1, last: 2 },
            { first: 4, last: 5 },
          ],
          throughSequence: 5,
          state: { k: "v" },
          initialState: { k: "start" },
          forkedFrom,
        }),
      );
      expect(view.session).toMatchObject({
        id: target.sessionId,
        userId: "other",
        agentId: "agent",
        status: "active",
        state: { k: "v" },
        metadata: { m: 1 },
        createTimeUs: 9_000_000,
        updateTimeUs: 9_000_000,
        lastSequence: 4,
        forkedFrom,
      });
      expect(view.userState).toEqual({});
      const copied = await ctx.store.readEvents(target, { filter: {}, afterSequence: 0, limit: 10 });
      expect(copied).toEqual([events[0], events[1], events[3], events[4]].map((e, i) => ({ ...e!, sequence: i + 1 })));
      expect(await ctx.store.readInitialState!(target)).toEqual({ k: "start" });
      const read = await ctx.store.getSession(target, {});
      expect(read.view.session.forkedFrom).toEqual(forkedFrom);
      expect(read.events.map((e) => e.id)).toEqual(["e1", "e2", "e4", "e5"]);
      // Appends continue after the copy, and a copied id is a retry.
      const retry = await ctx.store.appendEvents(target, { events: [{ event: events[3]!, delta: { app: null, user: null, session: null } }], nowUs: 1 });
      expect(retry.lastSequence).toBe(4);
      expect(retry.events[0]).toMatchObject({ id: "e4", sequence: 3, timestampUs: events[3]!.timestampUs });
      const listed = await ctx.store.listSessions({ appName: source.appName, forkedFromSessionId: source.sessionId, order: "asc", offset: 0, limit: 10 });
      expect(listed.map((v) => v.session.id)).toEqual([target.sessionId]);
      const scanned = await ctx.store.scanSessions({ appName: source.appName, userId: "other", sessionId: "" }, 1);
      expect(scanned[0]?.forkedFrom).toEqual(forkedFrom);
    });

    it("forks an empty history, and refuses a taken target or a source without the planned events", async () => {
      const source = freshKey();
      await create(ctx.store, source);
      await appendEvents(ctx.store, source, 2);
      const empty = await ctx.store.forkSession!(plan(source, { ...source, sessionId: `${source.sessionId}-0` }));
      expect(empty.session.lastSequence).toBe(0);
      await rejection(ctx.store.forkSession!(plan(source, { ...source, sessionId: `${source.sessionId}-0` })), "already_exists");
      await rejection(ctx.store.forkSession!(plan(source, source)), "already_exists");
      const far = plan(source, { ...source, sessionId: `${source.sessionId}-far` }, { ranges: [{ first: 1, last: 3 }], throughSequence: 3 });
      await rejection(ctx.store.forkSession!(far), "not_found");
      await rejection(ctx.store.forkSession!(plan(freshKey(), { ...source, sessionId: `${source.sessionId}-x` })), "not_found");
      await rejection(ctx.store.getSession({ ...source, sessionId: `${source.sessionId}-far` }, {}), "not_found");
    });

    it("finds the rewind markers up to a sequence", async () => {
      const key = freshKey();
      await create(ctx.store, key);
      const marker = (id: string, n: number, targetSequence: number) =>
        pending(event(id, n, { actions: { rewind: { targetSequence, lastRewoundSequence: n - 1 }, stateDelta: { a: null } } }));
      await ctx.store.appendEvents(key, { events: [pending(event("e1", 1)), pending(event("e2", 2)), marker("m3", 3, 1), pending(event("e4", 4))], nowUs: 1 });
      await ctx.store.appendEvents(key, { events: [marker("m5", 5, 3), pending(event("e6", 6, { actions: { custom: { rewind: 1 } } }))], nowUs: 1 });
      expect(await readMarkers(ctx.store, key, 6)).toEqual([
        { sequence: 3, targetSequence: 1 },
        { sequence: 5, targetSequence: 3 },
      ]);
      expect(await readMarkers(ctx.store, key, 4)).toEqual([{ sequence: 3, targetSequence: 1 }]);
      expect(await readMarkers(ctx.store, key, 2)).toEqual([]);
      await rejection(readMarkers(ctx.store, freshKey(), 5), "not_found");
    });

    it("keeps the lineage through restore, as import writes it", async () => {
      const key = freshKey();
      const forkedFrom = { sessionId: "src", userId: "u0", sequence: 3 };
      const record = {
        appName: key.appName,
        userId: key.userId,
        id: key.sessionId,
        agentId: "",
        status: "active" as const,
        state: {},
        metadata: {},
        createTimeUs: 1,
        updateTimeUs: 1,
        lastSequence: 0,
        forkedFrom,
      };
      await ctx.store.restoreSession(record);
      expect((await ctx.store.getSession(key, {})).view.session.forkedFrom).toEqual(forkedFrom);
      await ctx.store.restoreSession({ ...record, forkedFrom: undefined });
      expect((await ctx.store.getSession(key, {})).view.session.forkedFrom).toBeUndefined();
    });
  });
}
