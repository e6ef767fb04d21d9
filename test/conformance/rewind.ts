import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Event } from "../../gen/sessiond/v1/session_pb.js";
import { HistoryView } from "../../gen/sessiond/v1/session_service_pb.js";
import { expectCode } from "../support/expect-code.js";
import { Follower } from "../streaming/follower.js";
import { uniqueName } from "../support/server.js";
import { type Fixture, newSession, type SuiteContext, textEvent } from "./context.js";

const EFFECTIVE = HistoryView.EFFECTIVE;

/** A text event that also sets state. */
function stateEvent(text: string, stateDelta: JsonObject, extra: object = {}) {
  return textEvent(text, { actions: { stateDelta }, ...extra });
}

/** Texts of events, for comparing histories. */
function texts(events: Event[]): string[] {
  return events.map((e) => {
    if (e.actions?.rewind) return `<rewind to ${e.actions.rewind.targetSequence}>`;
    const parts = (e.content as { parts?: { text?: string }[] } | undefined)?.parts;
    return parts?.[0]?.text ?? "?";
  });
}

/** The raw log and the effective history through every read, which must agree. */
async function histories(ctx: SuiteContext, f: Fixture) {
  const raw = (await ctx.client.getSession(f.key)).session!.events;
  const viaGet = (await ctx.client.getSession({ ...f.key, view: EFFECTIVE })).session!.events;
  const viaList: Event[] = [];
  let pageToken = "";
  do {
    const page = await ctx.client.listEvents({ ...f.key, view: EFFECTIVE, pageSize: 2, pageToken });
    viaList.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  const viaStream: Event[] = [];
  for await (const m of ctx.client.getEvents({ ...f.key, view: EFFECTIVE })) viaStream.push(...m.events);
  expect(texts(viaList)).toEqual(texts(viaGet));
  expect(texts(viaStream)).toEqual(texts(viaGet));
  return { raw: texts(raw), effective: texts(viaGet) };
}

/** Session-scoped state after replaying the raw log from `initial`: must equal what the server holds. */
async function expectReplayedState(ctx: SuiteContext, f: Fixture, initial: JsonObject) {
  const session = (await ctx.client.getSession(f.key)).session!;
  const state: JsonObject = { ...initial };
  for (const e of session.events) {
    for (const [k, v] of Object.entries(e.actions?.stateDelta ?? {})) {
      if (k.startsWith("app:") || k.startsWith("user:")) continue;
      if (v === null) delete state[k];
      else state[k] = v;
    }
  }
  const own = Object.fromEntries(Object.entries(session.state ?? {}).filter(([k]) => !k.startsWith("app:") && !k.startsWith("user:")));
  expect(own).toEqual(state);
}

/** RewindSession and the effective history, through the API. */
export function rewindTests(ctx: SuiteContext): void {
  describe("rewind", () => {
    it("appends a marker that restores the session state and hides the rewound events", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({
        ...f.key,
        events: [
          stateEvent("one", { a: 1, "app:shared": 1, "user:pref": 1 }),
          stateEvent("two", { a: 2, b: true, "app:shared": 2 }),
          stateEvent("three", { a: null, c: { deep: [1] }, "user:pref": 3, "temp:x": 1 }),
        ],
      });
      const res = await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n }, author: "user", invocationId: "undo" });
      expect(res.event!.sequence).toBe(4n);
      expect(res.event!.author).toBe("user");
      expect(res.event!.invocationId).toBe("undo");
      expect(res.event!.actions!.rewind).toMatchObject({ targetSequence: 1n, lastRewoundSequence: 3n, beforeInvocationId: "" });
      expect(res.event!.actions!.stateDelta).toEqual({ a: 1, b: null, c: null });
      // Shared state is not rewound: it belongs to other sessions too.
      expect(res.session!.state).toEqual({ a: 1, "app:shared": 2, "user:pref": 3 });
      expect(res.session!.lastSequence).toBe(4n);
      expect(await histories(ctx, f)).toEqual({ raw: ["one", "two", "three", "<rewind to 1>"], effective: ["one"] });
      await ctx.client.appendEvent({ ...f.key, event: textEvent("four") });
      expect((await histories(ctx, f)).effective).toEqual(["one", "four"]);
      expect((await ctx.client.getSession({ ...f.key, view: EFFECTIVE, numRecentEvents: 1 })).session!.events.map((e) => e.sequence)).toEqual([5n]);
      await expectReplayedState(ctx, f, {});
    });

    it("restores keys of the initial state that later events changed", async () => {
      const f = await newSession(ctx, { state: { mood: "calm", n: 0, "app:x": 1 } });
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("a", { mood: "angry", n: 1 }), stateEvent("b", { n: null, extra: 1 })] });
      const res = await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 0n } });
      expect(res.session!.state).toEqual({ mood: "calm", n: 0, "app:x": 1 });
      expect(await histories(ctx, f)).toEqual({ raw: ["a", "b", "<rewind to 0>"], effective: [] });
      await expectReplayedState(ctx, f, { mood: "calm", n: 0 });
    });

    it("rewinds a session without a recorded initial state only where that state does not matter", async () => {
      // An imported session (or one created before initial states were recorded) has none.
      const key = { appName: uniqueName("app"), userId: "u", sessionId: uniqueName("s") };
      const record = { appName: key.appName, userId: key.userId, id: key.sessionId, agentId: "", status: "active" as const };
      await ctx.store.restoreSession({ ...record, state: { a: 2, b: 1, old: true }, metadata: {}, createTimeUs: 1, updateTimeUs: 1, lastSequence: 0 });
      await ctx.client.appendEvents({ ...key, events: [stateEvent("1", { a: 1 }), stateEvent("2", { a: 2, b: 1 })] });
      await expectCode(
        ctx.client.rewindSession({ ...key, target: { case: "targetSequence", value: 1n } }),
        Code.FailedPrecondition,
        'initial value of "b" is unknown',
      );
      expect((await ctx.client.getSession(key)).session!.lastSequence).toBe(2n);
      // Every key changed after sequence 2 was written at or before it: exact without the initial state.
      await ctx.client.appendEvent({ ...key, event: stateEvent("3", { a: 3 }) });
      const res = await ctx.client.rewindSession({ ...key, target: { case: "targetSequence", value: 2n } });
      expect(res.event!.actions!.stateDelta).toEqual({ a: 2 });
      expect(res.session!.state).toEqual({ a: 2, b: 1, old: true });
    });

    it("rewinds twice, and a rewind of a rewind brings the undone events back", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("1", { v: 1 }), stateEvent("2", { v: 2 }), stateEvent("3", { v: 3 })] });
      const first = await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 2n } });
      expect(first.session!.state).toEqual({ v: 2 });
      const second = await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n } });
      expect(second.session!.state).toEqual({ v: 1 });
      expect((await histories(ctx, f)).effective).toEqual(["1"]);
      await ctx.client.appendEvent({ ...f.key, event: stateEvent("6", { v: 6 }) });
      // Back to just before the second marker (5): its effective history is that of 4, i.e. of 2.
      const undo = await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 4n } });
      expect(undo.session!.state).toEqual({ v: 2 });
      expect(await histories(ctx, f)).toEqual({
        raw: ["1", "2", "3", "<rewind to 2>", "<rewind to 1>", "6", "<rewind to 4>"],
        effective: ["1", "2"],
      });
      await expectReplayedState(ctx, f, {});
    });

    it("rewinds to before the first event of an invocation", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({
        ...f.key,
        events: [
          stateEvent("q1", { turn: 1 }, { invocationId: "i1" }),
          stateEvent("a1", { turn: 1.5 }, { invocationId: "i1" }),
          stateEvent("q2", { turn: 2 }, { invocationId: "i2" }),
          stateEvent("a2", { turn: 2.5 }, { invocationId: "i2" }),
        ],
      });
      const res = await ctx.client.rewindSession({ ...f.key, target: { case: "beforeInvocationId", value: "i2" } });
      expect(res.event!.actions!.rewind).toMatchObject({ targetSequence: 2n, beforeInvocationId: "i2" });
      expect(res.session!.state).toEqual({ turn: 1.5 });
      expect((await histories(ctx, f)).effective).toEqual(["q1", "a1"]);
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "beforeInvocationId", value: "nope" } }), Code.InvalidArgument, "before_invocation_id");
    });

    it("is guarded by expected_last_sequence and returns the stored marker on a retry", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("1", { v: 1 }), stateEvent("2", { v: 2 })] });
      await expectCode(
        ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n }, expectedLastSequence: 1n }),
        Code.Aborted,
        "expected_last_sequence",
      );
      expect((await ctx.client.getSession(f.key)).session!.lastSequence).toBe(2n);
      const request = { ...f.key, target: { case: "targetSequence" as const, value: 1n }, expectedLastSequence: 2n, eventId: "undo-1" };
      const first = await ctx.client.rewindSession(request);
      const retry = await ctx.client.rewindSession(request);
      expect(retry.event!.sequence).toBe(first.event!.sequence);
      expect(retry.event!.id).toBe("undo-1");
      expect(retry.session!.lastSequence).toBe(3n);
      expect(retry.session!.state).toEqual({ v: 1 });
      // A retry whose guard is stale (the marker itself moved last_sequence) still finds the marker.
      expect((await ctx.client.getSession(f.key)).session!.events).toHaveLength(3);
    });

    it("stays consistent while other clients append", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({ ...f.key, events: [stateEvent("base", { n: 0, keep: 1 })] });
      const writers = Array.from({ length: 4 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 5; i++) await ctx.client.appendEvent({ ...f.key, event: stateEvent(`w${w}-${i}`, { n: w * 10 + i, [`w${w}`]: i }) });
        })(),
      );
      const rewinds = (async () => {
        for (let i = 0; i < 3; i++) await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n } });
      })();
      await Promise.all([...writers, rewinds]);
      const raw = (await ctx.client.getSession(f.key)).session!.events;
      expect(raw).toHaveLength(24);
      // Every marker restored exactly the state as of its target, against the appends that preceded it.
      const states: JsonObject[] = [{}];
      for (const e of raw) {
        const next: JsonObject = { ...states.at(-1)! };
        for (const [k, v] of Object.entries(e.actions?.stateDelta ?? {})) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        if (e.actions?.rewind) expect(next).toEqual(states[Number(e.actions.rewind.targetSequence)]);
        states.push(next);
      }
      await expectReplayedState(ctx, f, {});
    });

    it("shows followers the marker after the effective history", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvents({ ...f.key, events: [textEvent("1"), textEvent("2")] });
      await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n } });
      const follower = new Follower(ctx.client, { ...f.key, follow: true, view: EFFECTIVE });
      try {
        await follower.caughtUp();
        expect(follower.sequences).toEqual([1]);
        await ctx.client.appendEvent({ ...f.key, event: textEvent("4") });
        await ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 1n } });
        await follower.received(3);
        expect(follower.sequences).toEqual([1, 4, 5]);
        const marker = follower.messages.flatMap((m) => m.events).at(-1)!;
        expect(marker.actions!.rewind!.targetSequence).toBe(1n);
      } finally {
        await follower.cancel();
      }
    });

    it("rejects bad input before writing anything", async () => {
      const f = await newSession(ctx);
      await ctx.client.appendEvent({ ...f.key, event: textEvent("1") });
      await expectCode(ctx.client.rewindSession(f.key), Code.InvalidArgument, "target");
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 2n } }), Code.InvalidArgument, "target_sequence");
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: -1n } }), Code.InvalidArgument, "target_sequence");
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "beforeInvocationId", value: "" } }), Code.InvalidArgument, "before_invocation_id");
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 0n }, eventId: "a\u0000" }), Code.InvalidArgument, "event_id");
      await expectCode(ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 0n }, author: "x\n" }), Code.InvalidArgument, "author");
      await expectCode(
        ctx.client.rewindSession({ ...f.key, target: { case: "targetSequence", value: 0n }, expectedLastSequence: -1n }),
        Code.InvalidArgument,
        "expected_last_sequence",
      );
      await expectCode(
        ctx.client.appendEvent({ ...f.key, event: textEvent("x", { actions: { rewind: { targetSequence: 0n } } }) }),
        Code.InvalidArgument,
        "event.actions.rewind",
      );
      await expectCode(ctx.client.getSession({ ...f.key, view: 9 as HistoryView }), Code.InvalidArgument, "view");
      await expectCode(ctx.client.listEvents({ ...f.key, view: 9 as HistoryView }), Code.InvalidArgument, "view");
      await expectCode(ctx.client.rewindSession({ ...f.key, sessionId: "missing", target: { case: "targetSequence", value: 0n } }), Code.NotFound, "missing");
      expect((await ctx.client.getSession(f.key)).session!.lastSequence).toBe(1n);
    });
  });
}
