import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { SessionOrder } from "../../gen/sessiond/v1/session_service_pb.js";
import { uniqueName } from "../support/server.js";
import { type SuiteContext, textEvent } from "./context.js";

/** A Timestamp init at whole seconds plus microseconds, exact on every store. */
const stamp = (seconds: number, micros = 0): Timestamp =>
  ({ $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: micros * 1000 }) as Timestamp;

const plain = (t: Timestamp | undefined) => ({ seconds: t?.seconds, nanos: t?.nanos });

/**
 * A session's update time after an append is the timestamp of the last event
 * the append stored, whoever chose it, and listings order and page by it.
 */
export function updateTimeTests(ctx: SuiteContext): void {
  describe("update time follows appended events", () => {
    it("takes the client's event timestamp, even one older than the session", async () => {
      const appName = uniqueName("app");
      const key = { appName, userId: "u", sessionId: "s" };
      const created = (await ctx.client.createSession(key)).session!;
      const past = stamp(1_600_000_000, 123_456);
      await ctx.client.appendEvent({ ...key, event: textEvent("old", { timestamp: past }) });
      const after = (await ctx.client.getSession(key)).session!;
      expect(plain(after.updateTime)).toEqual(plain(past));
      expect(after.updateTime!.seconds).toBeLessThan(created.createTime!.seconds);
      expect(plain(after.createTime)).toEqual(plain(created.createTime));
    });

    it("takes the server's timestamp when the event has none, and the last event's in a batch", async () => {
      const appName = uniqueName("app");
      const key = { appName, userId: "u", sessionId: "s" };
      await ctx.client.createSession(key);
      const assigned = (await ctx.client.appendEvent({ ...key, event: textEvent("now") })).event!;
      expect(plain((await ctx.client.getSession(key)).session!.updateTime)).toEqual(plain(assigned.timestamp));

      const later = stamp(1_900_000_000, 7);
      const earlier = stamp(1_800_000_000, 999_999);
      await ctx.client.appendEvents({ ...key, events: [textEvent("a", { timestamp: later }), textEvent("b", { timestamp: earlier })] });
      expect(plain((await ctx.client.getSession(key)).session!.updateTime)).toEqual(plain(earlier));
    });

    it("is not moved by a retried event", async () => {
      const appName = uniqueName("app");
      const key = { appName, userId: "u", sessionId: "s" };
      await ctx.client.createSession(key);
      const first = stamp(1_700_000_000, 1);
      await ctx.client.appendEvent({ ...key, event: textEvent("x", { id: "e1", timestamp: first }) });
      await ctx.client.appendEvent({ ...key, event: textEvent("x", { id: "e1", timestamp: stamp(1_750_000_000) }) });
      const session = (await ctx.client.getSession(key)).session!;
      expect(plain(session.updateTime)).toEqual(plain(first));
      expect(session.lastSequence).toBe(1n);
    });

    it("orders and pages listings by it, per user and across users", async () => {
      const appName = uniqueName("app");
      // Created in this order, so creation time alone would list them c, b, a (newest first).
      const times: [string, string, Timestamp][] = [
        ["u1", "a", stamp(2_000_000_000, 5)],
        ["u2", "b", stamp(1_500_000_000, 5)],
        ["u1", "c", stamp(1_700_000_000, 5)],
      ];
      for (const [userId, sessionId] of times) await ctx.client.createSession({ appName, userId, sessionId });
      for (const [userId, sessionId, timestamp] of times) {
        await ctx.client.appendEvent({ appName, userId, sessionId, event: textEvent("t", { timestamp }) });
      }
      const ids = async (req: { userId?: string; order?: SessionOrder; pageSize?: number }) => {
        const out: string[] = [];
        let pageToken = "";
        do {
          const res = await ctx.client.listSessions({ appName, ...req, pageToken });
          out.push(...res.sessions.map((s) => s.id));
          pageToken = res.nextPageToken;
        } while (pageToken !== "");
        return out;
      };
      expect(await ids({})).toEqual(["a", "c", "b"]);
      expect(await ids({ pageSize: 1 })).toEqual(["a", "c", "b"]);
      expect(await ids({ order: SessionOrder.UPDATE_TIME_ASC, pageSize: 1 })).toEqual(["b", "c", "a"]);
      expect(await ids({ userId: "u1", pageSize: 1 })).toEqual(["a", "c"]);
      expect(await ids({ userId: "u1", order: SessionOrder.UPDATE_TIME_ASC })).toEqual(["c", "a"]);

      // Moving one session back in time moves it in both listings.
      await ctx.client.appendEvent({ appName, userId: "u1", sessionId: "a", event: textEvent("t", { timestamp: stamp(1_000_000_000) }) });
      expect(await ids({ pageSize: 2 })).toEqual(["c", "b", "a"]);
      expect(await ids({ userId: "u1" })).toEqual(["c", "a"]);
      const listed = (await ctx.client.listSessions({ appName, userId: "u1" })).sessions;
      expect(plain(listed.at(-1)!.updateTime)).toEqual(plain(stamp(1_000_000_000)));
    });
  });
}
