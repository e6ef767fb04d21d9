import { describe, expect, it } from "vitest";
import { eventsToRestore } from "../../../src/core/restore.js";
import type { SessionRecord, StoredEvent } from "../../../src/core/types.js";
import { uniqueName } from "../../support/server.js";
import { appendEvents, create, event, freshKey, rejection, type StoreSpecContext } from "./context.js";

const stored = (sequence: number): StoredEvent => ({ ...event(`r${sequence}`, sequence), sequence });

/** Scans and restores (export, import, copies), called on the store itself. */
export function restoreSpecs(ctx: StoreSpecContext): void {
  describe("scan and restore", () => {
    it("scans every session in (app, user, id) order strictly after a cursor", async () => {
      const appName = uniqueName("scan");
      for (const [userId, id] of [["b", "2"], ["a", "9"], ["b", "1"], ["a", "10"]]) await create(ctx.store, { appName, userId: userId!, sessionId: id! });
      const mine = (records: SessionRecord[]) => records.filter((r) => r.appName === appName).map((r) => `${r.userId}/${r.id}`);
      const first = await ctx.store.scanSessions({ appName, userId: "", sessionId: "" }, 2);
      expect(mine(first)).toEqual(["a/10", "a/9"]);
      const rest = await ctx.store.scanSessions({ appName, userId: "a", sessionId: "9" }, 10);
      expect(mine(rest)).toEqual(["b/1", "b/2"]);
    });

    it("restores a session verbatim and keeps the higher last_sequence", async () => {
      const key = freshKey();
      const record: SessionRecord = {
        appName: key.appName,
        userId: key.userId,
        id: key.sessionId,
        agentId: "agent",
        status: "failed",
        state: { s: [1, 2] },
        metadata: { m: "x" },
        createTimeUs: 1_600_000_000_000_001,
        updateTimeUs: 1_600_000_000_000_002,
        lastSequence: 0,
      };
      await ctx.store.restoreSession(record);
      expect((await ctx.store.getSession(key, {})).view.session).toEqual(record);
      await appendEvents(ctx.store, key, 3);
      await ctx.store.restoreSession({ ...record, lastSequence: 1 });
      expect((await ctx.store.getSession(key, {})).view.session).toEqual({ ...record, lastSequence: 3 });
    });

    // The cases of the core rule's unit test, run against each store's own restore (a Lua script on Redis).
    const cases: [string, number[], number[] | "gap"][] = [
      ["the whole history", [1, 2, 3], [1, 2, 3]],
      ["a resumed copy, skipping what is stored", [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]],
      ["a continuation", [3, 4], [1, 2, 3, 4]],
      ["a gap after the stored events", [4, 5], "gap"],
      ["a gap inside the batch", [3, 5], "gap"],
    ];
    for (const [title, sequences, expected] of cases) {
      it(`restores events by the core rule: ${title}`, async () => {
        const key = freshKey();
        await create(ctx.store, key);
        await ctx.store.restoreEvents(key, [stored(1), stored(2)]);
        const events = sequences.map(stored);
        const rule = (() => {
          try {
            return eventsToRestore(events, 2);
          } catch {
            return "gap" as const;
          }
        })();
        if (expected === "gap") {
          expect(rule).toBe("gap");
          const error = await rejection(ctx.store.restoreEvents(key, events), "invalid_argument");
          expect(error.message).toMatch(/^events: sequence \d+ would leave a gap after \d+$/);
        } else {
          expect(rule).not.toBe("gap");
          await ctx.store.restoreEvents(key, events);
        }
        const after = await ctx.store.readEvents(key, { filter: {}, afterSequence: 0, limit: 100 });
        expect(after.map((e) => e.sequence)).toEqual(expected === "gap" ? [1, 2] : expected);
        expect(after).toEqual(after.map((e) => stored(e.sequence)));
        const session = (await ctx.store.getSession(key, { numRecentEvents: 0 })).view.session;
        expect(session.lastSequence).toBe(after.length);
        // A restored history keeps counting on the next append.
        const next = await appendEvents(ctx.store, key, 1, "next");
        expect(next[0]!.sequence).toBe(after.length + 1);
      });
    }

    it("rejects restoring events of a missing session", async () => {
      await rejection(ctx.store.restoreEvents(freshKey(), [stored(1)]), "not_found");
    });
  });
}
