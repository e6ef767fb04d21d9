import type { JsonObject } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { expectCode } from "../support/expect-code.js";
import { appendMany, at, newSession, type SuiteContext, textEvent } from "./context.js";

/** Appending: sequence numbers, returned fields, idempotency, atomic batches, partial events. */
export function eventTests(ctx: SuiteContext): void {
  describe("appending events", () => {
    it("assigns sequences 1..n per session and returns only the assigned fields", async () => {
      const f = await newSession(ctx);
      const before = Date.now();
      const first = await ctx.client.appendEvent({ ...f.key, event: textEvent("hello") });
      expect(first.event!.sequence).toBe(1n);
      expect(first.event!.sessionId).toBe(f.sessionId);
      expect(first.event!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(timestampMs(first.event!.timestamp!)).toBeGreaterThanOrEqual(before - 1);
      expect(first.event!.content).toBeUndefined();
      expect(first.sessionLastSequence).toBe(1n);
      const batch = await ctx.client.appendEvents({ ...f.key, events: [textEvent("a"), textEvent("b", { id: "mine" })] });
      expect(batch.events.map((e) => e.sequence)).toEqual([2n, 3n]);
      expect(batch.events[1]!.id).toBe("mine");
      expect(batch.sessionLastSequence).toBe(3n);
      const other = await newSession(ctx);
      expect((await ctx.client.appendEvent({ ...other.key, event: textEvent("x") })).event!.sequence).toBe(1n);
      const session = await ctx.client.getSession(f.key);
      expect(session.session!.lastSequence).toBe(3n);
      expect(session.session!.events.map((e) => e.sequence)).toEqual([1n, 2n, 3n]);
    });

    it("round-trips every event field, including actions without a state delta", async () => {
      const f = await newSession(ctx);
      const content: JsonObject = {
        role: "model",
        parts: [{ text: "héllo 👋 你好" }, { functionCall: { name: "f", args: { n: 1.5, ok: true, nil: null } } }],
      };
      const event = {
        id: "evt-1",
        invocationId: "inv-1",
        agentId: "agent-1",
        author: "model",
        branch: "root.child",
        timestamp: at(1_700_000_000_123),
        content,
        actions: {
          artifactDelta: { "report.pdf": 2n },
          transferToAgent: "billing",
          escalate: false,
          skipSummarization: true,
          custom: { requestedAuthConfigs: { tool: { scheme: "oauth" } } },
        },
        metadata: { tokens: 12, nested: { list: [1, "two", null] } },
        turnComplete: true,
        errorCode: "SAFETY",
        errorMessage: "blocked\nsecond line",
        longRunningToolIds: ["tool-1", "tool-2"],
        interrupted: true,
      };
      await ctx.client.appendEvent({ ...f.key, event });
      const [stored] = (await ctx.client.getSession(f.key)).session!.events;
      expect(stored).toMatchObject({ ...event, sequence: 1n, sessionId: f.sessionId, partial: false });
      expect(stored!.actions!.stateDelta).toBeUndefined();
      expect(stored!.actions!.escalate).toBe(false);
    });

    it("keeps the client's timestamp to the microsecond", async () => {
      const f = await newSession(ctx);
      const timestamp = { seconds: 1_700_000_000n, nanos: 123_456_000 };
      await ctx.client.appendEvent({ ...f.key, event: textEvent("t", { timestamp: { $typeName: "google.protobuf.Timestamp", ...timestamp } }) });
      const [stored] = (await ctx.client.listEvents(f.key)).events;
      expect(stored!.timestamp).toMatchObject(timestamp);
    });

    it("treats a repeated event id as a retry: same sequence, nothing stored twice, state applied once", async () => {
      const f = await newSession(ctx);
      const event = textEvent("once", { id: "retry-me", actions: { stateDelta: { count: 1 } } });
      const first = await ctx.client.appendEvent({ ...f.key, event });
      await ctx.client.appendEvent({ ...f.key, event: textEvent("later", { actions: { stateDelta: { count: 2 } } }) });
      const again = await ctx.client.appendEvent({ ...f.key, event, expectedLastSequence: 0n });
      expect(again.event!.sequence).toBe(first.event!.sequence);
      expect(again.event!.timestamp).toEqual(first.event!.timestamp);
      expect(again.sessionLastSequence).toBe(2n);
      const session = (await ctx.client.getSession(f.key)).session!;
      expect(session.events).toHaveLength(2);
      expect(session.state).toEqual({ count: 2 });
      // A batch mixing stored and new ids stores only the new ones.
      const mixed = await ctx.client.appendEvents({ ...f.key, events: [event, textEvent("new", { id: "fresh" })] });
      expect(mixed.events.map((e) => [e.id, e.sequence])).toEqual([
        ["retry-me", 1n],
        ["fresh", 3n],
      ]);
    });

    it("stores a batch all or nothing", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 1);
      const bad = [textEvent("ok", { actions: { stateDelta: { a: 1 } } }), textEvent("bad", { id: "x".repeat(129) })];
      await expectCode(ctx.client.appendEvents({ ...f.key, events: bad }), Code.InvalidArgument, "events[1].id");
      await expectCode(
        ctx.client.appendEvents({ ...f.key, events: [textEvent("a", { id: "d" }), textEvent("b", { id: "d" })] }),
        Code.InvalidArgument,
        "events[1].id",
      );
      await expectCode(
        ctx.client.appendEvents({ ...f.key, events: [textEvent("a", { actions: { stateDelta: { a: 1 } } })], expectedLastSequence: 0n }),
        Code.Aborted,
      );
      const session = (await ctx.client.getSession(f.key)).session!;
      expect(session.lastSequence).toBe(1n);
      expect(session.events).toHaveLength(1);
      expect(session.state).toEqual({});
    });

    it("enforces expected_last_sequence on appends", async () => {
      const f = await newSession(ctx);
      const first = await ctx.client.appendEvent({ ...f.key, event: textEvent("a"), expectedLastSequence: 0n });
      expect(first.event!.sequence).toBe(1n);
      const err = await expectCode(ctx.client.appendEvent({ ...f.key, event: textEvent("b"), expectedLastSequence: 0n }), Code.Aborted);
      expect(err.rawMessage).toContain("sequence 1");
      const ok = await ctx.client.appendEvents({ ...f.key, events: [textEvent("c"), textEvent("d")], expectedLastSequence: 1n });
      expect(ok.sessionLastSequence).toBe(3n);
    });

    it("returns partial events without storing them or applying their state", async () => {
      const f = await newSession(ctx);
      const partial = await ctx.client.appendEvent({
        ...f.key,
        event: textEvent("streaming…", { partial: true, actions: { stateDelta: { p: 1 } } }),
      });
      expect(partial.event!.partial).toBe(true);
      expect(partial.event!.sequence).toBe(0n);
      expect(partial.event!.id).not.toBe("");
      expect(partial.sessionLastSequence).toBe(0n);
      const mixed = await ctx.client.appendEvents({ ...f.key, events: [textEvent("p", { partial: true }), textEvent("final")] });
      expect(mixed.events.map((e) => [e.partial, e.sequence])).toEqual([
        [true, 0n],
        [false, 1n],
      ]);
      const session = (await ctx.client.getSession(f.key)).session!;
      expect(session.events).toHaveLength(1);
      expect(session.state).toEqual({});
    });

    it("round-trips emoji and CJK in ids, labels and content", async () => {
      const f = await newSession(ctx);
      const id = "事件-🚀-ß";
      await ctx.client.appendEvent({ ...f.key, event: textEvent("日本語のテキスト 🎌", { id, author: "作者", branch: "分支.😀" }) });
      const [stored] = (await ctx.client.listEvents({ ...f.key, filter: { author: "作者" } })).events;
      expect(stored).toMatchObject({ id, author: "作者", branch: "分支.😀", content: textEvent("日本語のテキスト 🎌").content });
      const unicodeSession = await ctx.client.createSession({ appName: f.appName, userId: "用户🙂", sessionId: "会话" });
      expect(unicodeSession.session!.userId).toBe("用户🙂");
      expect((await ctx.client.getSession({ appName: f.appName, userId: "用户🙂", sessionId: "会话" })).session!.id).toBe("会话");
    });
  });
}
