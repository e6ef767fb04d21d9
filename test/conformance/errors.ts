import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { expectCode } from "../support/expect-code.js";
import { newSession, type SuiteContext, textEvent } from "./context.js";

/** Bad input: a clear INVALID_ARGUMENT naming the field, and nothing written. */
export function errorTests(ctx: SuiteContext): void {
  describe("bad input", () => {
    it("names the missing or malformed identifier", async () => {
      const f = await newSession(ctx);
      await expectCode(ctx.client.createSession({ userId: "u" }), Code.InvalidArgument, "app_name");
      await expectCode(ctx.client.createSession({ appName: "a" }), Code.InvalidArgument, "user_id");
      await expectCode(ctx.client.createSession({ appName: "a", userId: "u", sessionId: "" }), Code.InvalidArgument, "session_id");
      await expectCode(ctx.client.createSession({ appName: "a".repeat(129), userId: "u" }), Code.InvalidArgument, "app_name");
      await expectCode(ctx.client.createSession({ appName: "a", userId: "u\u0000x" }), Code.InvalidArgument, "user_id");
      await expectCode(ctx.client.createSession({ appName: "a", userId: "u", sessionId: "line\nbreak" }), Code.InvalidArgument, "session_id");
      await expectCode(ctx.client.getSession({ ...f.key, sessionId: "" }), Code.InvalidArgument, "session_id");
      await expectCode(ctx.client.appendEvent({ ...f.key, event: textEvent("x", { id: "bad\u0007id" }) }), Code.InvalidArgument, "event.id");
      await expectCode(ctx.client.appendEvent({ ...f.key, event: textEvent("x", { author: "a\u2028b" }) }), Code.InvalidArgument, "event.author");
      expect((await ctx.client.getSession(f.key)).session!.lastSequence).toBe(0n);
    });

    it("rejects negative counts, oversized pages and unknown enum values", async () => {
      const f = await newSession(ctx);
      await expectCode(ctx.client.getSession({ ...f.key, numRecentEvents: -1 }), Code.InvalidArgument, "num_recent_events");
      await expectCode(ctx.client.listEvents({ ...f.key, pageSize: 1001 }), Code.InvalidArgument, "page_size");
      await expectCode(ctx.client.listEvents({ ...f.key, pageToken: "%%%" }), Code.InvalidArgument, "page_token");
      const stream = async (req: object) => {
        for await (const _ of ctx.client.getEvents({ ...f.key, ...req })) void _;
      };
      await expectCode(stream({ limit: -1n }), Code.InvalidArgument, "limit");
      await expectCode(stream({ offset: -5n }), Code.InvalidArgument, "offset");
      await expectCode(stream({ filter: { afterSequence: -1n } }), Code.InvalidArgument, "filter.after_sequence");
      await expectCode(ctx.client.listSessions({ appName: f.appName, offset: -1 }), Code.InvalidArgument, "offset");
      await expectCode(ctx.client.updateSession({ ...f.key, status: 42 as SessionStatus }), Code.InvalidArgument, "status");
      await expectCode(ctx.client.listSessions({ appName: f.appName, status: 42 as SessionStatus }), Code.InvalidArgument, "status");
      await expectCode(ctx.client.updateSession({ ...f.key, updateMask: { paths: ["state"] } }), Code.InvalidArgument, "update_mask");
      await expectCode(ctx.client.updateSession(f.key), Code.InvalidArgument, "nothing to update");
      await expectCode(ctx.client.appendEvent({ ...f.key, expectedLastSequence: -1n, event: textEvent("x") }), Code.InvalidArgument, "expected_last_sequence");
    });

    it("rejects empty, oversized and out-of-range appends without writing", async () => {
      const f = await newSession(ctx);
      await expectCode(ctx.client.appendEvent(f.key), Code.InvalidArgument, "event");
      await expectCode(ctx.client.appendEvents({ ...f.key, events: [] }), Code.InvalidArgument, "events");
      const tooMany = Array.from({ length: 1001 }, (_, i) => textEvent(`m${i}`));
      await expectCode(ctx.client.appendEvents({ ...f.key, events: tooMany }), Code.InvalidArgument, "at most 1000");
      const huge = textEvent("x".repeat(1024 * 1024 + 10));
      await expectCode(ctx.client.appendEvent({ ...f.key, event: huge }), Code.InvalidArgument, "event");
      // JSON cannot express a timestamp outside the range: a JSON client refuses to send one.
      if (ctx.protocol !== "connect-json") {
        const badTime = textEvent("x", { timestamp: { $typeName: "google.protobuf.Timestamp", seconds: 400_000_000_000n, nanos: 0 } });
        await expectCode(ctx.client.appendEvent({ ...f.key, event: badTime }), Code.InvalidArgument, "event.timestamp");
      }
      await expectCode(
        ctx.client.createSession({ appName: f.appName, userId: "u", state: { big: "x".repeat(1024 * 1024 + 1) } }),
        Code.InvalidArgument,
        "state",
      );
      expect((await ctx.client.getSession(f.key)).session!.lastSequence).toBe(0n);
      expect((await ctx.client.listSessions({ appName: f.appName, userId: "u" })).sessions).toEqual([]);
    });
  });
}
