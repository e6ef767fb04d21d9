import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../../src/core/types.js";
import { uniqueName } from "../support/server.js";
import { appendMany, newSession, type SuiteContext } from "./context.js";

/** Store operations behind export, import, copies and retention purges. */
export function restoreTests(ctx: SuiteContext): void {
  describe("scan, restore and purge", () => {
    it("scans every session in (app, user, id) order from a cursor", async () => {
      const appName = uniqueName("scan");
      for (const [userId, id] of [["b", "2"], ["a", "9"], ["b", "1"], ["a", "10"]]) {
        await ctx.client.createSession({ appName, userId, sessionId: id });
      }
      const mine = (records: SessionRecord[]) => records.filter((r) => r.appName === appName).map((r) => `${r.userId}/${r.id}`);
      const first = await ctx.store.scanSessions({ appName, userId: "", sessionId: "" }, 2);
      expect(mine(first)).toEqual(["a/10", "a/9"]);
      const last = first.at(-1)!;
      const rest = await ctx.store.scanSessions({ appName, userId: last.userId, sessionId: last.id }, 10);
      expect(mine(rest)).toEqual(["b/1", "b/2"]);
    });

    it("restores a session and its events verbatim, idempotently", async () => {
      const source = await newSession(ctx, { state: { topic: "x", "user:u": 1 } });
      await appendMany(ctx, source, 5);
      const { view, events } = await ctx.store.getSession(source.key, {});
      const target = { ...view.session, appName: uniqueName("copy") };
      const key = { appName: target.appName, userId: target.userId, sessionId: target.id };
      await ctx.store.restoreSession(target);
      await ctx.store.restoreEvents(key, events.slice(0, 3));
      await ctx.store.restoreEvents(key, events); // resumed copy: the first three are skipped
      await ctx.store.restoreSession(target);
      await ctx.store.restoreSharedState(target.appName, target.userId, { userState: view.userState });
      const copy = await ctx.store.getSession(key, {});
      expect(copy.view.session).toEqual(target);
      expect(copy.events).toEqual(events);
      expect(copy.view.userState).toEqual({ u: 1 });
      // The copy keeps working: the next append continues the sequence.
      const next = await ctx.client.appendEvent({ ...key, event: { author: "user" } });
      expect(next.event!.sequence).toBe(6n);
    });

    it("purges by app, last update and status", async () => {
      const appName = uniqueName("purge");
      const old = (await ctx.client.createSession({ appName, userId: "u" })).session!;
      await ctx.client.updateSession({ appName, userId: "u", sessionId: old.id, status: 2 });
      const cutoff = Date.now() * 1000 + 1000;
      await new Promise((r) => setTimeout(r, 5));
      await ctx.client.createSession({ appName, userId: "u" });
      const stillActive = (await ctx.client.createSession({ appName, userId: "v" })).session!;
      await appendMany(ctx, { appName, userId: "v", sessionId: stillActive.id, key: { appName, userId: "v", sessionId: stillActive.id } }, 1);
      expect(await ctx.store.deleteSessions({ appName, updatedBeforeUs: cutoff, status: "active", purgeState: false })).toBe(0);
      expect(await ctx.store.deleteSessions({ appName, updatedBeforeUs: cutoff, purgeState: false })).toBe(1);
      const left = (await ctx.client.listSessions({ appName })).sessions.map((s) => s.id);
      expect(left).toHaveLength(2);
      expect(left).not.toContain(old.id);
    });
  });
}

