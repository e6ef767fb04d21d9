import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { expectCode } from "../support/expect-code.js";
import { appendMany, at, type Fixture, newSession, type SuiteContext, textEvent } from "./context.js";
import { collect } from "./sessions.js";

const T0 = 1_750_000_000_000;

/** Reading events back: GetSession windows, GetEvents streaming and ListEvents paging. */
export function readTests(ctx: SuiteContext): void {
  /** Ten events, one second apart, alternating authors, invocations of three events. */
  async function tenEvents(): Promise<Fixture> {
    const f = await newSession(ctx);
    await appendMany(ctx, f, 10, (i) =>
      textEvent(`m${i}`, {
        author: i % 2 === 0 ? "user" : "model",
        invocationId: `inv-${Math.floor(i / 3)}`,
        agentId: i < 5 ? "planner" : "writer",
        branch: i < 5 ? "root" : "root.writer",
        timestamp: at(T0 + i * 1000),
      }),
    );
    return f;
  }
  const seqs = (events: { sequence: bigint }[]) => events.map((e) => Number(e.sequence));
  const streamed = async (req: Parameters<SuiteContext["client"]["getEvents"]>[0]) =>
    (await collect(ctx.client.getEvents(req))).flatMap((r) => r.events);

  describe("reading events", () => {
    it("GetSession: all, none, the newest N, after a time (inclusive), and both", async () => {
      const f = await tenEvents();
      const get = async (extra: object) => seqs((await ctx.client.getSession({ ...f.key, ...extra })).session!.events);
      expect(await get({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await get({ numRecentEvents: 0 })).toEqual([]);
      expect(await get({ numRecentEvents: 3 })).toEqual([8, 9, 10]);
      expect(await get({ numRecentEvents: 50 })).toHaveLength(10);
      expect(await get({ afterTime: at(T0 + 7000) })).toEqual([8, 9, 10]);
      expect(await get({ afterTime: at(T0 + 6500) })).toEqual([8, 9, 10]);
      expect(await get({ numRecentEvents: 5, afterTime: at(T0 + 7000) })).toEqual([8, 9, 10]);
      expect(await get({ numRecentEvents: 2, afterTime: at(T0 + 3000) })).toEqual([9, 10]);
      expect(await get({ numRecentEvents: 2, afterTime: at(T0 + 60_000) })).toEqual([]);
    });

    it("GetEvents streams in sequence order with every filter", async () => {
      const f = await tenEvents();
      expect(seqs(await streamed(f.key))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(seqs(await streamed({ ...f.key, filter: { author: "model" } }))).toEqual([2, 4, 6, 8, 10]);
      expect(seqs(await streamed({ ...f.key, filter: { invocationId: "inv-1" } }))).toEqual([4, 5, 6]);
      expect(seqs(await streamed({ ...f.key, filter: { agentId: "writer", author: "user" } }))).toEqual([7, 9]);
      expect(seqs(await streamed({ ...f.key, filter: { branch: "root" } }))).toEqual([1, 2, 3, 4, 5]);
      expect(seqs(await streamed({ ...f.key, filter: { startTime: at(T0 + 2000), endTime: at(T0 + 5000) } }))).toEqual([3, 4, 5]);
      expect(seqs(await streamed({ ...f.key, filter: { afterSequence: 7n } }))).toEqual([8, 9, 10]);
      expect(seqs(await streamed({ ...f.key, limit: 4n }))).toEqual([1, 2, 3, 4]);
      expect(seqs(await streamed({ ...f.key, offset: 8n }))).toEqual([9, 10]);
      expect(seqs(await streamed({ ...f.key, filter: { author: "user", afterSequence: 2n }, offset: 1n, limit: 2n }))).toEqual([5, 7]);
      expect(await streamed({ ...f.key, filter: { author: "nobody" } })).toEqual([]);
    });

    it("GetEvents streams a history longer than one store page in several messages", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 1234);
      const messages = await collect(ctx.client.getEvents(f.key));
      expect(messages.length).toBeGreaterThan(1);
      const all = messages.flatMap((m) => m.events);
      expect(seqs(all)).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
      expect(all[1233]!.content).toEqual(textEvent("m1233").content);
      // Resuming after the last received sequence yields exactly the rest.
      expect(seqs(await streamed({ ...f.key, filter: { afterSequence: 1200n } }))).toEqual(Array.from({ length: 34 }, (_, i) => 1201 + i));
    });

    it("ListEvents pages with opaque tokens until the last page", async () => {
      const f = await tenEvents();
      const pages: number[][] = [];
      let pageToken = "";
      do {
        const res = await ctx.client.listEvents({ ...f.key, filter: { author: "user" }, pageSize: 2, pageToken });
        pages.push(seqs(res.events));
        pageToken = res.nextPageToken;
      } while (pageToken !== "");
      expect(pages).toEqual([[1, 3], [5, 7], [9]]);
      const first = await ctx.client.listEvents({ ...f.key, pageSize: 3 });
      await expectCode(
        ctx.client.listEvents({ ...f.key, pageSize: 3, pageToken: first.nextPageToken, filter: { author: "user" } }),
        Code.InvalidArgument,
        "page_token",
      );
      const exact = await ctx.client.listEvents({ ...f.key, pageSize: 10 });
      expect(exact.events).toHaveLength(10);
      expect(exact.nextPageToken).toBe("");
    });
  });
}
