import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { appendMany, newSession, textEvent } from "../conformance/context.js";
import type { StreamContext } from "./context.js";
import { eventually, Follower, range, sequencesOf } from "./follower.js";
import { bigEvent } from "./replay.js";

/** Live tail on one server: woken by the in-process hub alone (the poll is a minute). */
export function followTests(ctx: StreamContext): void {
  describe("follow", () => {
    it("sends the history, one empty caught_up message, then each new event as it is appended", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 3);
      const follower = new Follower(ctx.client, { ...f.key, follow: true });
      await follower.caughtUp();
      expect(follower.sequences).toEqual([1, 2, 3]);
      await ctx.client.appendEvent({ ...f.key, event: textEvent("four") });
      await follower.received(4);
      await ctx.client.appendEvents({ ...f.key, events: [textEvent("5"), textEvent("6", { partial: true }), textEvent("7")] });
      await follower.received(6);
      await follower.cancel();
      expect(follower.sequences).toEqual([1, 2, 3, 4, 5, 6]);
      const marks = follower.messages.filter((m) => m.caughtUp);
      expect(marks).toHaveLength(1);
      expect(marks[0]!.events).toEqual([]);
      const before = follower.messages.slice(0, follower.caughtUpAt).flatMap((m) => m.events.map((e) => Number(e.sequence)));
      expect(before).toEqual([1, 2, 3]);
      expect(follower.messages[follower.caughtUpAt + 1]!.events[0]!.content).toEqual(textEvent("four").content);
    });

    it("sends caught_up at once for an empty session and follows with filters", async () => {
      const f = await newSession(ctx);
      const all = new Follower(ctx.client, { ...f.key, follow: true });
      const models = new Follower(ctx.client, { ...f.key, follow: true, filter: { author: "model" } });
      await all.caughtUp();
      await models.caughtUp();
      expect(all.messages).toHaveLength(1);
      await appendMany(ctx, f, 6, (i) => textEvent(`m${i}`, { author: i % 3 === 0 ? "model" : "user" }));
      await all.received(6);
      await models.received(2);
      await ctx.client.appendEvent({ ...f.key, event: textEvent("late", { author: "model" }) });
      await models.received(3);
      await all.received(7);
      await Promise.all([all.cancel(), models.cancel()]);
      expect(all.sequences).toEqual(range(1, 7));
      expect(models.sequences).toEqual([1, 4, 7]);
    });

    it("resumes after the last received sequence in follow mode: exactly the rest, then live", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 4, (i) => textEvent(`m${i}`, { author: i % 2 === 0 ? "user" : "model" }));
      const first = new Follower(ctx.client, { ...f.key, follow: true });
      await first.caughtUp();
      await ctx.client.appendEvent({ ...f.key, event: textEvent("m4") });
      await first.received(5);
      await first.cancel();
      const lastSeen = first.sequences.at(-1)!;
      expect(lastSeen).toBe(5);
      await appendMany(ctx, f, 3, (i) => textEvent(`later${i}`, { author: i % 2 === 0 ? "user" : "model" }));
      const resumed = new Follower(ctx.client, { ...f.key, follow: true, filter: { afterSequence: BigInt(lastSeen) } });
      const resumedUsers = new Follower(ctx.client, { ...f.key, follow: true, filter: { afterSequence: 3n, author: "user" } });
      await resumed.caughtUp();
      await resumedUsers.caughtUp();
      expect(resumed.sequences).toEqual([6, 7, 8]);
      await ctx.client.appendEvent({ ...f.key, event: textEvent("live") });
      await resumed.received(4);
      await resumedUsers.received(4);
      await Promise.all([resumed.cancel(), resumedUsers.cancel()]);
      expect(resumed.sequences).toEqual([6, 7, 8, 9]);
      // Events 5 (m4), 6 and 8 (later0, later2) and 9 (live) are by "user".
      expect(resumedUsers.sequences).toEqual([5, 6, 8, 9]);
    });

    it("applies limit and offset across history and tail, then ends the stream", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 3);
      const follower = new Follower(ctx.client, { ...f.key, follow: true, offset: 1n, limit: 4n });
      await follower.caughtUp();
      await appendMany(ctx, f, 3);
      await follower.done;
      expect(follower.error).toBeUndefined();
      expect(follower.sequences).toEqual([2, 3, 4, 5]);
      const skipped = new Follower(ctx.client, { ...f.key, follow: true, offset: 50n });
      await skipped.caughtUp();
      await ctx.client.appendEvent({ ...f.key, event: textEvent("new") });
      await skipped.received(1);
      await skipped.cancel();
      expect(skipped.sequences).toEqual([7]);
    });

    it("delivers every appended sequence exactly once, in order, to every follower under concurrent appenders", async () => {
      const f = await newSession(ctx);
      const authors = ["user", "model", "tool"];
      await appendMany(ctx, f, 5, (i) => textEvent(`pre${i}`, { author: authors[i % 3] }));
      const filters = [{}, { author: "model" }, { author: "tool" }, { invocationId: "inv-1" }];
      const followers = filters.map((filter) => new Follower(ctx.client, { ...f.key, follow: true, filter }));
      await Promise.all(followers.map((x) => x.caughtUp()));
      const writers = 4;
      const perWriter = 30;
      let late: Follower | undefined;
      await Promise.all(
        range(0, writers - 1).map(async (w) => {
          for (let i = 0; i < perWriter; i++) {
            const make = (n: number) => textEvent(`w${w}-${i}-${n}`, { author: authors[(w + i + n) % 3], invocationId: `inv-${(i + n) % 2}` });
            if (i % 3 === 0) await ctx.client.appendEvents({ ...f.key, events: [make(0), make(1)] });
            else await ctx.client.appendEvent({ ...f.key, event: make(0) });
            if (w === 0 && i === perWriter / 2) late = new Follower(ctx.client, { ...f.key, follow: true, filter: { author: "model" } });
          }
        }),
      );
      const stored: { sequence: bigint; author: string; invocationId: string }[] = [];
      for await (const m of ctx.client.getEvents(f.key)) stored.push(...m.events);
      const expected = (filter: { author?: string; invocationId?: string }) =>
        stored
          .filter((e) => (filter.author === undefined || e.author === filter.author) && (filter.invocationId === undefined || e.invocationId === filter.invocationId))
          .map((e) => Number(e.sequence));
      expect(expected({})).toEqual(range(1, stored.length));
      const all = [...followers, late!];
      const allFilters = [...filters, { author: "model" }];
      await Promise.all(all.map((x, i) => x.received(expected(allFilters[i]!).length)));
      await Promise.all(all.map((x) => x.cancel()));
      all.forEach((x, i) => expect(x.sequences, JSON.stringify(allFilters[i])).toEqual(expected(allFilters[i]!)));
    });

    it("keeps a follower that stops reading to one flag: the store is not read for it while it stalls", async () => {
      const f = await newSession(ctx);
      const reads = () => ctx.counters.reads.get(f.sessionId) ?? 0;
      const abort = new AbortController();
      const stream = ctx.client.getEvents({ ...f.key, follow: true }, { signal: abort.signal })[Symbol.asyncIterator]();
      expect((await stream.next()).value!.caughtUp).toBe(true);
      const received: number[] = [];
      // Enough bytes to fill the transport's buffers, so the server blocks on the write.
      await ctx.client.appendEvents({ ...f.key, events: range(1, 40).map((n) => bigEvent(n, 50_000)) });
      const first = await stream.next();
      received.push(...sequencesOf(first.value!));
      const readsAtStall = reads();
      for (let i = 0; i < 60; i++) await ctx.client.appendEvent({ ...f.key, event: textEvent(`more${i}`) });
      expect(ctx.server.followStats().followers).toBeGreaterThanOrEqual(1);
      // 60 appends woke the follower 60 times; it read the store at most once more.
      expect(reads() - readsAtStall).toBeLessThanOrEqual(1);
      while (received.length < 100) {
        const next = await stream.next();
        received.push(...sequencesOf(next.value!));
      }
      abort.abort();
      expect(received).toEqual(range(1, 100));
      await eventually(() => ctx.server.followStats().followers === 0, "the follower to leave");
    });

    it("ends with NOT_FOUND when the followed session is deleted, alone or in a bulk delete", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 2);
      const follower = new Follower(ctx.client, { ...f.key, follow: true });
      await follower.caughtUp();
      await ctx.client.deleteSession(f.key);
      await follower.done;
      expect(follower.error?.code).toBe(Code.NotFound);
      expect(follower.sequences).toEqual([1, 2]);

      const g = await newSession(ctx);
      const bulk = new Follower(ctx.client, { ...g.key, follow: true, filter: { author: "nobody" } });
      await bulk.caughtUp();
      await ctx.client.deleteUserSessions({ appName: g.appName, userId: g.userId });
      await bulk.done;
      expect(bulk.error?.code).toBe(Code.NotFound);
    });
  });
}
