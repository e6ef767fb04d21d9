import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import { appendMany, newSession, type SuiteContext, textEvent } from "./context.js";

/** Session lifecycle: create, get, update, delete, bulk delete. */
export function sessionTests(ctx: SuiteContext): void {
  describe("sessions", () => {
    it("creates a session with a generated id, ACTIVE, empty history", async () => {
      const appName = uniqueName("app");
      const before = Date.now();
      const { session } = await ctx.client.createSession({ appName, userId: "u", agentId: "agent-a", metadata: { env: "test" } });
      expect(session!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(session!.status).toBe(SessionStatus.ACTIVE);
      expect(session!.lastSequence).toBe(0n);
      expect(session!.agentId).toBe("agent-a");
      expect(session!.metadata).toEqual({ env: "test" });
      expect(timestampMs(session!.createTime!)).toBeGreaterThanOrEqual(before - 1);
      expect(session!.updateTime).toEqual(session!.createTime);
      const got = await ctx.client.getSession({ appName, userId: "u", sessionId: session!.id });
      expect(got.session!.id).toBe(session!.id);
      expect(got.session!.events).toEqual([]);
    });

    it("rejects a taken id with ALREADY_EXISTS, but the same id under another user is another session", async () => {
      const appName = uniqueName("app");
      await ctx.client.createSession({ appName, userId: "u1", sessionId: "same" });
      await expectCode(ctx.client.createSession({ appName, userId: "u1", sessionId: "same" }), Code.AlreadyExists, "same");
      const other = await ctx.client.createSession({ appName, userId: "u2", sessionId: "same", state: { k: "u2" } });
      expect(other.session!.userId).toBe("u2");
      const first = await ctx.client.getSession({ appName, userId: "u1", sessionId: "same" });
      expect(first.session!.state).toEqual({});
    });

    it("returns NOT_FOUND for a missing session on every session call", async () => {
      const key = { appName: uniqueName("app"), userId: "u", sessionId: "missing" };
      await expectCode(ctx.client.getSession(key), Code.NotFound, "missing");
      await expectCode(ctx.client.updateSession({ ...key, status: SessionStatus.COMPLETED }), Code.NotFound);
      await expectCode(ctx.client.deleteSession(key), Code.NotFound);
      await expectCode(ctx.client.appendEvent({ ...key, event: textEvent("x") }), Code.NotFound);
      await expectCode(ctx.client.appendEvents({ ...key, events: [textEvent("x")] }), Code.NotFound);
      await expectCode(ctx.client.listEvents(key), Code.NotFound);
      await expectCode(collect(ctx.client.getEvents(key)), Code.NotFound);
      await expectCode(ctx.client.appendEvent({ ...key, event: textEvent("x", { partial: true }) }), Code.NotFound);
    });

    it("moves status ACTIVE -> COMPLETED -> ACTIVE -> FAILED and replaces metadata and agent", async () => {
      const f = await newSession(ctx);
      const done = await ctx.client.updateSession({ ...f.key, status: SessionStatus.COMPLETED });
      expect(done.session!.status).toBe(SessionStatus.COMPLETED);
      const again = await ctx.client.updateSession({ ...f.key, status: SessionStatus.ACTIVE, metadata: { retry: 1 } });
      expect(again.session!.status).toBe(SessionStatus.ACTIVE);
      expect(again.session!.metadata).toEqual({ retry: 1 });
      expect(timestampMs(again.session!.updateTime!)).toBeGreaterThanOrEqual(timestampMs(done.session!.updateTime!));
      const failed = await ctx.client.updateSession({
        ...f.key,
        status: SessionStatus.FAILED,
        agentId: "ignored",
        updateMask: { paths: ["status"] },
      });
      expect(failed.session!.status).toBe(SessionStatus.FAILED);
      expect(failed.session!.agentId).toBe("");
      const moved = await ctx.client.updateSession({ ...f.key, agentId: "agent-b", updateMask: { paths: ["agent_id", "metadata"] } });
      expect(moved.session!.agentId).toBe("agent-b");
      expect(moved.session!.metadata).toEqual({});
      const stored = await ctx.client.getSession(f.key);
      expect(stored.session!.status).toBe(SessionStatus.FAILED);
      expect(stored.session!.agentId).toBe("agent-b");
    });

    it("checks expected_last_sequence on update", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 2);
      await expectCode(
        ctx.client.updateSession({ ...f.key, status: SessionStatus.COMPLETED, expectedLastSequence: 1n }),
        Code.Aborted,
        "expected_last_sequence",
      );
      expect((await ctx.client.getSession(f.key)).session!.status).toBe(SessionStatus.ACTIVE);
      const ok = await ctx.client.updateSession({ ...f.key, status: SessionStatus.COMPLETED, expectedLastSequence: 2n });
      expect(ok.session!.status).toBe(SessionStatus.COMPLETED);
    });

    it("deletes a session with its events; the id can then start over at sequence 1", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 3);
      await ctx.client.deleteSession(f.key);
      await expectCode(ctx.client.getSession(f.key), Code.NotFound);
      await expectCode(ctx.client.deleteSession(f.key), Code.NotFound);
      await ctx.client.createSession({ appName: f.appName, userId: f.userId, sessionId: f.sessionId });
      const res = await ctx.client.appendEvent({ ...f.key, event: textEvent("fresh") });
      expect(res.event!.sequence).toBe(1n);
      const events = await ctx.client.listEvents(f.key);
      expect(events.events.map((e) => e.content)).toEqual([textEvent("fresh").content]);
    });

    it("deletes all sessions of a user or of an app and counts them", async () => {
      const appName = uniqueName("app");
      const otherApp = uniqueName("app");
      for (const userId of ["a", "a", "b"]) {
        const { session } = await ctx.client.createSession({ appName, userId, state: { "user:seen": true, "app:n": 1 } });
        await ctx.client.appendEvent({ appName, userId, sessionId: session!.id, event: textEvent("x") });
      }
      await ctx.client.createSession({ appName: otherApp, userId: "a" });
      const byUser = await ctx.client.deleteUserSessions({ appName, userId: "a" });
      expect(byUser.deletedCount).toBe(2n);
      expect((await ctx.client.listSessions({ appName })).sessions.map((s) => s.userId)).toEqual(["b"]);
      // Without purge_state the shared state survives.
      expect((await ctx.client.getUserState({ appName, userId: "a" })).state).toEqual({ "app:n": 1, "user:seen": true });
      const byApp = await ctx.client.deleteAppSessions({ appName, purgeState: true });
      expect(byApp.deletedCount).toBe(1n);
      expect((await ctx.client.listSessions({ appName })).sessions).toEqual([]);
      expect((await ctx.client.getUserState({ appName, userId: "a" })).state).toEqual({});
      expect((await ctx.client.listSessions({ appName: otherApp })).sessions).toHaveLength(1);
      expect((await ctx.client.deleteUserSessions({ appName, userId: "nobody" })).deletedCount).toBe(0n);
    });

    it("purges only the user's state when deleting one user with purge_state", async () => {
      const appName = uniqueName("app");
      await ctx.client.createSession({ appName, userId: "a", state: { "user:x": 1, "app:y": 2 } });
      await ctx.client.createSession({ appName, userId: "b", state: { "user:x": 3 } });
      await ctx.client.deleteUserSessions({ appName, userId: "a", purgeState: true });
      expect((await ctx.client.getUserState({ appName, userId: "a" })).state).toEqual({ "app:y": 2 });
      expect((await ctx.client.getUserState({ appName, userId: "b" })).state).toEqual({ "app:y": 2, "user:x": 3 });
    });
  });
}

/** Drains a server stream, so that its error surfaces as a rejected promise. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}
