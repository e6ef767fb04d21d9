import { describe, expect, it } from "vitest";
import { inRecentEventsRange, recentEventsRange } from "../../../src/core/recent-events.js";
import type { RecentEventsQuery } from "../../../src/core/types.js";
import { appendEvents, create, event, freshKey, pending, rejection, type StoreSpecContext } from "./context.js";

/** Appends and reads, called on the store itself. */
export function eventSpecs(ctx: StoreSpecContext): void {
  describe("events", () => {
    it("numbers appends gaplessly, returns stored assignments on a retry and checks expected_last_sequence", async () => {
      const key = freshKey();
      await create(ctx.store, key);
      const first = await ctx.store.appendEvents(key, { events: [pending(event("a", 1)), pending(event("b", 2))], nowUs: 2 });
      expect(first.events.map((e) => e.sequence)).toEqual([1, 2]);
      expect(first.lastSequence).toBe(2);
      const retry = await ctx.store.appendEvents(key, { events: [pending(event("b", 2)), pending(event("a", 1))], expectedLastSequence: 0, nowUs: 3 });
      const assigned = (outcome: typeof retry) => outcome.events.map(({ id, sequence, timestampUs }) => ({ id, sequence, timestampUs }));
      expect(retry.lastSequence).toBe(2);
      expect(assigned(retry)).toEqual([first.events[1], first.events[0]]);
      await rejection(ctx.store.appendEvents(key, { events: [pending(event("c", 3))], expectedLastSequence: 1, nowUs: 4 }), "aborted");
      const mixed = await ctx.store.appendEvents(key, { events: [pending(event("a", 1)), pending(event("c", 3))], expectedLastSequence: 2, nowUs: 5 });
      expect(mixed.events.map((e) => e.sequence)).toEqual([1, 3]);
      expect((await ctx.store.getSession(key, {})).view.session.lastSequence).toBe(3);
    });

    it("stores every event field verbatim and applies session state deltas", async () => {
      const key = freshKey();
      await create(ctx.store, key, { keep: 1, drop: 2 });
      const data = event("full", 4, {
        invocationId: "inv",
        agentId: "agent",
        author: "model",
        branch: "a.b",
        actions: { stateDelta: { k: 1 } },
        metadata: { m: [1, "x", null] },
        turnComplete: true,
        errorCode: "E",
        errorMessage: "msg",
        longRunningToolIds: ["t1", "t2"],
        interrupted: true,
      });
      await ctx.store.appendEvents(key, { events: [pending(data, { drop: null, add: { n: 1 } })], nowUs: 9 });
      const { view, events } = await ctx.store.getSession(key, {});
      expect(events).toEqual([{ ...data, sequence: 1 }]);
      expect(view.session.state).toEqual({ keep: 1, add: { n: 1 } });
    });

    it("selects recent events by the core rule: the newest N intersected with after_time", async () => {
      const key = freshKey();
      await create(ctx.store, key);
      const all = await appendEvents(ctx.store, key, 6);
      const queries: RecentEventsQuery[] = [
        {},
        { numRecentEvents: 0 },
        { numRecentEvents: 2 },
        { numRecentEvents: 10 },
        { afterTimeUs: all[3]!.timestampUs },
        { numRecentEvents: 4, afterTimeUs: all[3]!.timestampUs },
        { numRecentEvents: 2, afterTimeUs: all[0]!.timestampUs },
        { numRecentEvents: 2, afterTimeUs: all[5]!.timestampUs + 1 },
      ];
      for (const query of queries) {
        const range = recentEventsRange(query, all.length);
        const expected = range ? all.filter((e) => inRecentEventsRange(e, range)) : [];
        const { events } = await ctx.store.getSession(key, query);
        expect(events, JSON.stringify(query)).toEqual(expected);
      }
    });

    it("reads pages after a sequence with filters and offsets", async () => {
      const key = freshKey();
      await create(ctx.store, key);
      const data = Array.from({ length: 8 }, (_, i) => event(`p${i + 1}`, i + 1, { author: i % 2 === 0 ? "user" : "model", invocationId: `inv${i % 3}` }));
      await ctx.store.appendEvents(key, { events: data.map((d) => pending(d)), nowUs: 9 });
      const page = (query: Partial<Parameters<typeof ctx.store.readEvents>[1]>) =>
        ctx.store.readEvents(key, { filter: {}, afterSequence: 0, limit: 100, ...query }).then((events) => events.map((e) => e.sequence));
      expect(await page({ afterSequence: 2, limit: 3 })).toEqual([3, 4, 5]);
      expect(await page({ afterSequence: 6 })).toEqual([7, 8]);
      expect(await page({ afterSequence: 8 })).toEqual([]);
      expect(await page({ filter: { author: "model" } })).toEqual([2, 4, 6, 8]);
      expect(await page({ filter: { author: "model" }, offset: 1, limit: 2 })).toEqual([4, 6]);
      expect(await page({ filter: { invocationId: "inv1", author: "model" } })).toEqual([2, 8]);
      expect(await page({ filter: { startTimeUs: data[2]!.timestampUs, endTimeUs: data[5]!.timestampUs } })).toEqual([3, 4, 5]);
    });

    it("serializes concurrent appends to one session: every event once, sequences 1..n", async () => {
      const key = freshKey();
      await create(ctx.store, key, {});
      const writers = 8;
      const perWriter = 3;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await ctx.store.appendEvents(key, { events: [pending(event(`w${w}-${i}`, i), { "user:count": w * 100 + i })], nowUs: 9 });
          }
        }),
      );
      const events = await ctx.store.readEvents(key, { filter: {}, afterSequence: 0, limit: 1000 });
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.id)).size).toBe(writers * perWriter);
      expect((await ctx.store.getSession(key, { numRecentEvents: 0 })).view.session.lastSequence).toBe(writers * perWriter);
    });
  });
}
