import { describe, expect, it } from "vitest";
import { uniqueName } from "../support/server.js";
import { type SuiteContext, textEvent } from "./context.js";

const delta = (stateDelta: Record<string, unknown>) => ({ stateDelta: stateDelta as never });

/** ADK state scopes: app:, user:, temp: and session keys. */
export function stateTests(ctx: SuiteContext): void {
  describe("state scopes", () => {
    it("routes initial state: app and user keys shared, temp keys dropped", async () => {
      const appName = uniqueName("app");
      const { session } = await ctx.client.createSession({
        appName,
        userId: "u1",
        state: { "app:model": "m1", "user:lang": "fr", topic: "billing", "temp:scratch": 1 },
      });
      expect(session!.state).toEqual({ "app:model": "m1", "user:lang": "fr", topic: "billing" });
      const sibling = await ctx.client.createSession({ appName, userId: "u1" });
      expect(sibling.session!.state).toEqual({ "app:model": "m1", "user:lang": "fr" });
      const stranger = await ctx.client.createSession({ appName, userId: "u2" });
      expect(stranger.session!.state).toEqual({ "app:model": "m1" });
      const otherApp = await ctx.client.createSession({ appName: uniqueName("app"), userId: "u1" });
      expect(otherApp.session!.state).toEqual({});
    });

    it("applies event deltas to their scopes in the event's transaction", async () => {
      const appName = uniqueName("app");
      const a = (await ctx.client.createSession({ appName, userId: "u1" })).session!;
      const b = (await ctx.client.createSession({ appName, userId: "u1" })).session!;
      const c = (await ctx.client.createSession({ appName, userId: "u2" })).session!;
      await ctx.client.appendEvent({
        appName,
        userId: "u1",
        sessionId: a.id,
        event: textEvent("x", { actions: delta({ "app:flag": true, "user:name": "Ann", step: 1, "temp:t": "gone" }) }),
      });
      const key = (s: typeof a) => ({ appName, userId: s.userId, sessionId: s.id });
      expect((await ctx.client.getSession(key(a))).session!.state).toEqual({ "app:flag": true, "user:name": "Ann", step: 1 });
      expect((await ctx.client.getSession(key(b))).session!.state).toEqual({ "app:flag": true, "user:name": "Ann" });
      expect((await ctx.client.getSession(key(c))).session!.state).toEqual({ "app:flag": true });
      const listed = await ctx.client.listSessions({ appName, userId: "u1" });
      // Newest update first: a was just appended to.
      expect(listed.sessions.map((s) => [s.id, s.state])).toEqual([
        [a.id, { "app:flag": true, "user:name": "Ann", step: 1 }],
        [b.id, { "app:flag": true, "user:name": "Ann" }],
      ]);
      expect((await ctx.client.getUserState({ appName, userId: "u1" })).state).toEqual({ "app:flag": true, "user:name": "Ann" });
    });

    it("strips temp keys from the stored event's delta and deletes keys set to null", async () => {
      const appName = uniqueName("app");
      const s = (await ctx.client.createSession({ appName, userId: "u", state: { keep: 1, drop: 2, "user:x": 1 } })).session!;
      const key = { appName, userId: "u", sessionId: s.id };
      await ctx.client.appendEvent({ ...key, event: textEvent("x", { actions: delta({ drop: null, "user:x": null, "temp:y": 3, added: [1, 2] }) }) });
      const got = (await ctx.client.getSession(key)).session!;
      expect(got.state).toEqual({ keep: 1, added: [1, 2] });
      expect(got.events[0]!.actions!.stateDelta).toEqual({ drop: null, "user:x": null, added: [1, 2] });
      // An event whose delta was only temp keys keeps no delta at all.
      await ctx.client.appendEvent({ ...key, event: textEvent("t", { actions: delta({ "temp:only": 1 }) }) });
      const [, second] = (await ctx.client.getSession(key)).session!.events;
      expect(second!.actions!.stateDelta).toBeUndefined();
    });

    it("applies a batch's deltas in order", async () => {
      const appName = uniqueName("app");
      const s = (await ctx.client.createSession({ appName, userId: "u" })).session!;
      const key = { appName, userId: "u", sessionId: s.id };
      await ctx.client.appendEvents({
        ...key,
        events: [
          textEvent("1", { actions: delta({ n: 1, "app:n": 1, gone: true }) }),
          textEvent("2", { actions: delta({ n: 2, "app:n": 2, gone: null }) }),
        ],
      });
      expect((await ctx.client.getSession(key)).session!.state).toEqual({ n: 2, "app:n": 2 });
    });
  });
}
