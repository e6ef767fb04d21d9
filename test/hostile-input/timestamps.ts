import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import { expectCode } from "../support/expect-code.js";
import { expectInvalid, freshSession, type HostileContext, keyJson, rawCall } from "./context.js";

const stamp = (iso: string) => {
  const [whole, fraction = ""] = iso.replace("Z", "").split(".");
  const ts = timestampFromDate(new Date(`${whole}Z`));
  ts.nanos = Number(fraction.padEnd(9, "0"));
  return ts;
};
const iso = (ts: { seconds: bigint; nanos: number }) =>
  `${timestampDate({ seconds: ts.seconds, nanos: 0, $typeName: "google.protobuf.Timestamp" }).toISOString().slice(0, 19)}.${String(ts.nanos).padStart(9, "0")}Z`;

/** Event timestamps: one documented range that every store and protocol round-trips. */
export function timestampTests(ctx: HostileContext): void {
  describe("event timestamps", () => {
    it("stores the first and last instants of the range exactly, readable by every read path", async () => {
      const key = await freshSession(ctx);
      const first = "1700-01-01T00:00:00.000000000Z";
      const last = "2199-12-31T23:59:59.999999999Z";
      await ctx.client.appendEvents({ ...key, events: [{ timestamp: stamp(first) }, { timestamp: stamp(last) }, { timestamp: stamp("1969-12-31T23:59:59.999999Z") }] });
      // Sub-microsecond digits are dropped: timestamps are stored in microseconds.
      const expected = [first, "2199-12-31T23:59:59.999999000Z", "1969-12-31T23:59:59.999999000Z"];
      const { session } = await ctx.client.getSession(key);
      expect(session!.events.map((e) => iso(e.timestamp!))).toEqual(expected);
      expect((await ctx.client.listEvents(key)).events.map((e) => iso(e.timestamp!))).toEqual(expected);
      const streamed: string[] = [];
      for await (const m of ctx.client.getEvents(key)) streamed.push(...m.events.map((e) => iso(e.timestamp!)));
      expect(streamed).toEqual(expected);
      expect(Number(session!.lastSequence)).toBe(3);
    });

    it("rejects instants outside the range before anything is written, naming the field", async () => {
      const key = await freshSession(ctx);
      for (const outside of ["2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2200-01-01T00:00:00Z", "1699-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00Z"]) {
        await expectCode(ctx.client.appendEvent({ ...key, event: { timestamp: stamp(outside) } }), Code.InvalidArgument, "event.timestamp");
        await expectCode(
          ctx.client.appendEvents({ ...key, events: [{ author: "ok" }, { timestamp: stamp(outside) }] }),
          Code.InvalidArgument,
          "events[1].timestamp",
        );
        // The same over Connect JSON, where the timestamp is RFC 3339 text.
        const reply = await rawCall(ctx, "AppendEvent", `{${keyJson(key)},"event":{"timestamp":${JSON.stringify(outside)}}}`);
        expectInvalid(reply, "event.timestamp");
      }
      const { session } = await ctx.client.getSession(key);
      expect(Number(session!.lastSequence)).toBe(0);
      expect(session!.events).toEqual([]);
    });

    it("accepts any protobuf timestamp as a query bound and selects the same events", async () => {
      const key = await freshSession(ctx);
      await ctx.client.appendEvents({ ...key, events: [{ timestamp: stamp("1700-01-01T00:00:00Z") }, { timestamp: stamp("2199-12-31T23:59:59.999999Z") }] });
      const everything = { startTime: stamp("0001-01-01T00:00:00Z"), endTime: stamp("9999-12-31T23:59:59.999999999Z") };
      expect((await ctx.client.listEvents({ ...key, filter: everything })).events).toHaveLength(2);
      expect((await ctx.client.listEvents({ ...key, filter: { endTime: stamp("1700-01-01T00:00:00Z") } })).events).toHaveLength(0);
      expect((await ctx.client.listEvents({ ...key, filter: { startTime: stamp("2199-12-31T23:59:59.999999Z") } })).events).toHaveLength(1);
      expect((await ctx.client.getSession({ ...key, afterTime: stamp("9999-12-31T23:59:59Z") })).session!.events).toHaveLength(0);
      expect((await ctx.client.getSession({ ...key, afterTime: stamp("0001-01-01T00:00:00Z") })).session!.events).toHaveLength(2);
      const listed = await ctx.client.listSessions({ appName: key.appName, createTimeStart: stamp("0001-01-01T00:00:00Z"), createTimeEnd: stamp("9999-12-31T23:59:59Z") });
      expect(listed.sessions.map((s) => s.id)).toEqual([key.sessionId]);
    });

    it("documents the range in limits", () => {
      expect(new Date(limits.minTimestampUs / 1000).toISOString()).toBe("1700-01-01T00:00:00.000Z");
      expect(limits.maxTimestampUs + 1).toBe(Date.UTC(2200, 0, 1) * 1000);
      expect(Number.isSafeInteger(limits.minTimestampUs) && Number.isSafeInteger(limits.maxTimestampUs)).toBe(true);
    });
  });
}
