import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { HistoryView } from "../../gen/sessiond/v1/session_service_pb.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import { appendMany, newSession, type SuiteContext, textEvent } from "./context.js";

function stateEvent(text: string, stateDelta: JsonObject) {
  return textEvent(text, { actions: { stateDelta } });
}

/** ForkSession through the API. */
export function forkTests(ctx: SuiteContext): void {
  describe("fork", () => {
    it("copies the effective history renumbered from 1, with the state as of the fork point and its lineage", async () => {
      const f = await newSession(ctx, { state: { start: true }, agentId: "agent-a" });
      await ctx.client.appendEvents({
        ...f.key,
        events: [stateEvent("1", { v: 1, "user:seen": 1 }), stateEvent("2", { v: 2, gone: 1 }), stateEvent("3", { v: 3 })],
      });
      await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n } });
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("5", { v: 5, later: 1 }), stateEvent("6", { v: 6 })] });
      const res = await ctx.client.forkSession({ ...f.key, sequence: 5n, newSessionId: "fork-a" });
      const fork = res.session!;
      expect(fork.id).toBe("fork-a");
      expect(fork.userId).toBe(f.userId);
      expect(fork.agentId).toBe("agent-a");
      expect(fork.lastSequence).toBe(2n);
      expect(fork.forkedFrom).toMatchObject({ sessionId: f.sessionId, userId: f.userId, sequence: 5n });
      expect(fork.state).toEqual({ start: true, v: 5, later: 1, "user:seen": 1 });
      const forkKey = { appName: f.appName, userId: f.userId, sessionId: "fork-a" };
      const read = (await ctx.client.getSession(forkKey)).session!;
      expect(read.forkedFrom?.sequence).toBe(5n);
      const source = (await ctx.client.getSession(f.key)).session!;
      expect(read.events.map((e) => [e.sequence, e.id])).toEqual([
        [1n, source.events[0]!.id],
        [2n, source.events[4]!.id],
      ]);
      expect(read.events[1]!.content).toEqual(source.events[4]!.content);
      expect(source.lastSequence).toBe(6n);
      // The fork goes on by itself.
      const next = await ctx.client.appendEvent({ ...forkKey, event: stateEvent("f3", { v: "fork" }) });
      expect(next.event!.sequence).toBe(3n);
      expect((await ctx.client.getSession(f.key)).session!.state!.v).toBe(6);
      const forks = await ctx.client.listSessions({ appName: f.appName, forkedFromSessionId: f.sessionId });
      expect(forks.sessions.map((s) => s.id)).toEqual(["fork-a"]);
      expect((await ctx.client.listSessions({ appName: f.appName, forkedFromSessionId: "fork-a" })).sessions).toEqual([]);
    });

    it("forks everything by default, to another user, without touching shared state", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("1", { a: 1, "user:pref": "x", "app:n": 1 }), textEvent("2")] });
      const res = await ctx.client.forkSession({ ...f.key, newUserId: "user-2" });
      const fork = res.session!;
      expect(fork.userId).toBe("user-2");
      expect(fork.id).not.toBe("");
      expect(fork.lastSequence).toBe(2n);
      expect(fork.forkedFrom).toMatchObject({ sessionId: f.sessionId, userId: f.userId, sequence: 2n });
      // The new user's shared state is their own; the app's is shared.
      expect(fork.state).toEqual({ a: 1, "app:n": 1 });
      expect((await ctx.client.getUserState({ appName: f.appName, userId: "user-2" })).state).toEqual({ "app:n": 1 });
      const events = (await ctx.client.getSession({ appName: f.appName, userId: "user-2", sessionId: fork.id })).session!.events;
      expect(events.map((e) => e.sequence)).toEqual([1n, 2n]);
    });

    it("keeps rewinds inside the fork exact", async () => {
      const f = await newSession(ctx, { state: { x: 1 } });
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("1", { x: 2 }), stateEvent("2", { y: 1 })] });
      const fork = (await ctx.client.forkSession(f.key)).session!;
      const forkKey = { appName: f.appName, userId: f.userId, sessionId: fork.id };
      const rewind = ctx.client.rewindSession({ ...forkKey, target: { case: "targetSequence", value: 1n } });
      expect((await rewind).session!.state).toEqual({ x: 2 });
      const toStart = await ctx.client.rewindSession({ ...forkKey, target: { case: "targetSequence", value: 0n } });
      expect(toStart.session!.state).toEqual({ x: 1 });
      expect((await ctx.client.getSession({ ...forkKey, view: HistoryView.EFFECTIVE })).session!.events).toEqual([]);
    });

    it("copies big histories in ranges", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 1200);
      await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1100n } });
      await appendMany(ctx, f, 1000, (i) => textEvent(`late${i}`));
      const fork = (await ctx.client.forkSession(f.key)).session!;
      expect(fork.lastSequence).toBe(2100n);
      const forkKey = { appName: f.appName, userId: f.userId, sessionId: fork.id };
      const page = await ctx.client.listEvents({ ...forkKey, filter: { afterSequence: 1099n }, pageSize: 2 });
      expect(page.events.map((e) => (e.content as { parts: { text: string }[] }).parts[0]!.text)).toEqual(["m1099", "late0"]);
      const source = await ctx.client.listEvents({ ...f.key, view: HistoryView.EFFECTIVE, filter: { afterSequence: 1099n }, pageSize: 2 });
      expect(source.events.map((e) => e.sequence)).toEqual([1100n, 1202n]);
    });

    it("rejects bad input and taken ids before writing anything", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvent({ ...f.key, event: textEvent("1") });
      const taken = uniqueName("taken");
      await ctx.client.createSession({ appName: f.appName, userId: f.userId, sessionId: taken });
      await expectCode(ctx.client.forkSession({ ...f.key, newSessionId: taken }), Code.AlreadyExists, taken);
      await expectCode(ctx.client.forkSession({ ...f.key, sequence: 2n }), Code.InvalidArgument, "sequence");
      await expectCode(ctx.client.forkSession({ ...f.key, sequence: -1n }), Code.InvalidArgument, "sequence");
      await expectCode(ctx.client.forkSession({ ...f.key, newSessionId: "" }), Code.InvalidArgument, "new_session_id");
      await expectCode(ctx.client.forkSession({ ...f.key, newUserId: "a\u0000" }), Code.InvalidArgument, "new_user_id");
      await expectCode(ctx.client.forkSession({ ...f.key, sessionId: "missing" }), Code.NotFound, "missing");
      await expectCode(ctx.client.listSessions({ appName: f.appName, forkedFromSessionId: "" }), Code.InvalidArgument, "forked_from_session_id");
      const listed = await ctx.client.listSessions({ appName: f.appName });
      expect(listed.sessions.map((s) => s.id).sort()).toEqual([f.sessionId, taken].sort());
      expect((await ctx.client.getSession({ appName: f.appName, userId: f.userId, sessionId: taken })).session!.lastSequence).toBe(0n);
    });
  });
}
