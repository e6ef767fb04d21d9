import { randomBytes } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GetEventsResponseSchema } from "../../gen/sessiond/v1/session_service_pb.js";
import { limits } from "../../src/core/limits.js";
import { appendMany, newSession, textEvent } from "../conformance/context.js";
import type { StreamContext } from "./context.js";
import { eventually, range, sequencesOf } from "./follower.js";

/**
 * An event whose text is about `bytes` long. Random, because responses are
 * compressed: repeated characters would shrink to nothing on the wire and
 * never fill the transport's buffers.
 */
export const bigEvent = (i: number, bytes: number) => textEvent(`${i}:${randomBytes(Math.ceil((bytes * 3) / 4)).toString("base64")}`);

/** Replay: message bounds and backpressure. */
export function replayTests(ctx: StreamContext): void {
  describe("replay", () => {
    it("sends messages of at most 500 events and about 1 MiB", async () => {
      const small = await newSession(ctx);
      await appendMany(ctx, small, 1100);
      const counts: number[] = [];
      for await (const m of ctx.client.getEvents(small.key)) counts.push(m.events.length);
      expect(counts.every((n) => n <= limits.maxStreamMessageEvents)).toBe(true);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1100);

      const big = await newSession(ctx);
      await appendMany(ctx, big, 30, (i) => bigEvent(i, 200_000));
      const sizes: number[] = [];
      const sequences: number[] = [];
      for await (const m of ctx.client.getEvents(big.key)) {
        sizes.push(toBinary(GetEventsResponseSchema, m).length);
        sequences.push(...m.events.map((e) => Number(e.sequence)));
      }
      expect(sequences).toEqual(range(1, 30));
      expect(sizes.length).toBeGreaterThanOrEqual(6);
      for (const size of sizes) expect(size).toBeLessThanOrEqual(limits.maxStreamMessageBytes);
    });

    it("reads a long history of small events in pages of the store's stream page size", async () => {
      const f = await newSession(ctx);
      const pageSize = ctx.store.streamPageSize ?? limits.maxPageSize;
      const total = pageSize * 2 + 500;
      await appendMany(ctx, f, total);
      const received: number[] = [];
      for await (const m of ctx.client.getEvents(f.key)) received.push(...sequencesOf(m));
      expect(received).toEqual(range(1, total));
      // The first read is small (sizes are unknown); the following ones are whole pages.
      const reads = ctx.counters.reads.get(f.sessionId) ?? 0;
      expect(reads).toBeLessThanOrEqual(Math.ceil((total - 64) / pageSize) + 2);
      expect(reads).toBeGreaterThanOrEqual(Math.ceil(total / pageSize));
    });

    it("reads the next store page only when the client takes the previous messages", async () => {
      const f = await newSession(ctx);
      const total = 300;
      for (let i = 0; i < total; i += 50) {
        await ctx.client.appendEvents({ ...f.key, events: range(i, i + 49).map((n) => bigEvent(n, 50_000)) });
      }
      const reads = () => ctx.counters.reads.get(f.sessionId) ?? 0;
      const stream = ctx.client.getEvents(f.key)[Symbol.asyncIterator]();
      const first = await stream.next();
      expect(first.done).toBe(false);
      const received = sequencesOf(first.value!);
      // Wait until the server stops reading: it is blocked on the transport.
      let last = -1;
      let stable = 0;
      await eventually(() => {
        stable = reads() === last ? stable + 1 : 0;
        last = reads();
        return stable >= 40;
      }, "store reads to settle");
      const readsWhileStalled = reads();
      for (;;) {
        const next = await stream.next();
        if (next.done) break;
        received.push(...sequencesOf(next.value!));
      }
      expect(received).toEqual(range(1, total));
      // ~15 MB of history takes at least 4 pages; a stalled client held the server at the first.
      expect(reads()).toBeGreaterThanOrEqual(4);
      expect(readsWhileStalled).toBeLessThanOrEqual(2);
    });
  });
}
