import { describe, expect, it } from "vitest";
import { statePurge } from "../../../src/core/delete-scope.js";
import type { DeleteScope } from "../../../src/core/types.js";
import { uniqueName } from "../../support/server.js";
import { appendEvents, create, freshKey, pending, event, rejection, type StoreSpecContext } from "./context.js";

/** Sessions, shared state and bulk deletes, called on the store itself. */
export function sessionSpecs(ctx: StoreSpecContext): void {
  describe("sessions", () => {
    it("creates, reads, patches and deletes, with the error kinds of the Store contract", async () => {
      const key = freshKey();
      const created = await create(ctx.store, key, { topic: "t", "app:a": 1, "user:b": 2 });
      expect(created.session).toMatchObject({ id: key.sessionId, status: "active", state: { topic: "t" }, lastSequence: 0 });
      expect(created.appState).toEqual({ a: 1 });
      expect(created.userState).toEqual({ b: 2 });
      await rejection(create(ctx.store, key), "already_exists");

      const patched = await ctx.store.updateSession(key, { status: "completed", metadata: { m: 1 }, nowUs: 5_000_000 });
      expect(patched.session).toMatchObject({ status: "completed", metadata: { m: 1 }, agentId: "", updateTimeUs: 5_000_000 });
      await rejection(ctx.store.updateSession(key, { expectedLastSequence: 3, status: "failed", nowUs: 6_000_000 }), "aborted");
      expect((await ctx.store.getSession(key, {})).view.session.status).toBe("completed");

      await ctx.store.deleteSession(key);
      await rejection(ctx.store.deleteSession(key), "not_found");
      await rejection(ctx.store.getSession(key, {}), "not_found");
      await rejection(ctx.store.updateSession(key, { nowUs: 1 }), "not_found");
      await rejection(ctx.store.appendEvents(key, { events: [pending(event("x", 1))], nowUs: 1 }), "not_found");
      await rejection(ctx.store.readEvents(key, { filter: {}, afterSequence: 0, limit: 10 }), "not_found");
    });

    it("a create refused as a duplicate, and a fork onto an existing session, change no shared state", async () => {
      const key = freshKey();
      await create(ctx.store, key, { "app:a": 1, "user:b": 1 });
      await appendEvents(ctx.store, key, 1);
      await rejection(create(ctx.store, key, { "app:a": 2, "user:b": 2, "app:c": 3 }), "already_exists");
      expect(await ctx.store.getSharedState(key.appName, key.userId)).toEqual({ appState: { a: 1 }, userState: { b: 1 } });
      const other = { ...key, sessionId: `${key.sessionId}-other` };
      await create(ctx.store, other);
      const forkedFrom = { sessionId: key.sessionId, userId: key.userId, sequence: 1 };
      const fork = { source: key, target: other, ranges: [{ first: 1, last: 1 }], throughSequence: 1, state: {}, initialState: {}, agentId: "", metadata: {}, forkedFrom, nowUs: 9 };
      await rejection(ctx.store.forkSession(fork), "already_exists");
      expect((await ctx.store.getSession(other, {})).events).toEqual([]);
    });

    it("lists an app's sessions in keyset order with their shared state", async () => {
      const appName = uniqueName("list");
      for (const [userId, id, at] of [["u1", "a", 3], ["u2", "b", 1], ["u1", "c", 2]] as const) {
        await create(ctx.store, { appName, userId, sessionId: id }, { [`user:${userId}`]: at, "app:n": at }, at * 1_000_000);
      }
      const page = await ctx.store.listSessions({ appName, order: "asc", offset: 0, limit: 2 });
      expect(page.map((v) => v.session.id)).toEqual(["b", "c"]);
      expect(page.map((v) => v.userState)).toEqual([{ u2: 1 }, { u1: 2 }]);
      expect(page[0]!.appState).toEqual({ n: 2 });
      const last = page.at(-1)!.session;
      const rest = await ctx.store.listSessions({
        appName,
        order: "asc",
        offset: 0,
        limit: 10,
        after: { updateTimeUs: last.updateTimeUs, userId: last.userId, id: last.id },
      });
      expect(rest.map((v) => v.session.id)).toEqual(["a"]);
      const desc = await ctx.store.listSessions({ appName, userId: "u1", order: "desc", offset: 0, limit: 10 });
      expect(desc.map((v) => v.session.id)).toEqual(["a", "c"]);
    });

    // The same cases as the core rule's unit test, run against the store's own purge (a Lua script on Redis).
    const purgeCases: [string, Omit<DeleteScope, "appName"> & { app: boolean }][] = [
      ["one user's state", { app: true, userId: "u1", purgeState: true }],
      ["the app's and all its users' state", { app: true, purgeState: true }],
      ["no state without purgeState", { app: true, purgeState: false }],
      ["no state for a scope without an app", { app: false, userId: "nobody", purgeState: true }],
    ];
    for (const [title, { app, ...rest }] of purgeCases) {
      it(`deletes the scope's sessions and, by the core purge rule, ${title}`, async () => {
        const appName = uniqueName("purge");
        await create(ctx.store, { appName, userId: "u1", sessionId: "s1" }, { "app:a": 1, "user:x": 1 });
        await create(ctx.store, { appName, userId: "u2", sessionId: "s2" }, { "user:y": 2 });
        const scope: DeleteScope = { ...rest, appName: app ? appName : undefined };
        const deleted = await ctx.store.deleteSessions(scope);
        const expectedSessions = !app ? 0 : scope.userId ? 1 : 2;
        expect(deleted).toBe(expectedSessions);
        const purge = statePurge(scope);
        const u1 = await ctx.store.getSharedState(appName, "u1");
        const u2 = await ctx.store.getSharedState(appName, "u2");
        expect(u1.appState).toEqual(purge.kind === "app" ? {} : { a: 1 });
        expect(u1.userState).toEqual(purge.kind === "none" ? { x: 1 } : {});
        expect(u2.userState).toEqual(purge.kind === "app" ? {} : { y: 2 });
      });
    }

    it("purges by last update and status only within the scope", async () => {
      const appName = uniqueName("purge");
      await create(ctx.store, { appName, userId: "u", sessionId: "old" }, {}, 1_000_000);
      await create(ctx.store, { appName, userId: "u", sessionId: "new" }, {}, 9_000_000);
      await ctx.store.updateSession({ appName, userId: "u", sessionId: "old" }, { status: "failed", nowUs: 2_000_000 });
      expect(await ctx.store.deleteSessions({ appName, updatedBeforeUs: 5_000_000, status: "active", purgeState: false })).toBe(0);
      expect(await ctx.store.deleteSessions({ appName, updatedBeforeUs: 5_000_000, purgeState: false })).toBe(1);
      const left = await ctx.store.listSessions({ appName, order: "asc", offset: 0, limit: 10 });
      expect(left.map((v) => v.session.id)).toEqual(["new"]);
    });

    it("keeps shared state apart per app and user, and replaces it on restore", async () => {
      const key = freshKey("alice");
      await create(ctx.store, key, { "app:k": 1, "user:k": 2 });
      await appendEvents(ctx.store, key, 1);
      await ctx.store.appendEvents(key, { events: [pending(event("d", 9), { "app:k": null, "user:j": 3 })], nowUs: 3_000_000 });
      expect(await ctx.store.getSharedState(key.appName, "alice")).toEqual({ appState: {}, userState: { k: 2, j: 3 } });
      expect(await ctx.store.getSharedState(key.appName, "bob")).toEqual({ appState: {}, userState: {} });
      await ctx.store.restoreSharedState(key.appName, "alice", { appState: { r: 1 } });
      expect(await ctx.store.getSharedState(key.appName, "alice")).toEqual({ appState: { r: 1 }, userState: { k: 2, j: 3 } });
      await ctx.store.restoreSharedState(key.appName, "alice", { userState: { only: true } });
      expect(await ctx.store.getSharedState(key.appName, "alice")).toEqual({ appState: { r: 1 }, userState: { only: true } });
    });
  });
}
