import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { newSession, type SuiteContext, textEvent } from "./context.js";
import { collect } from "./sessions.js";

/** Sequences stay gapless and unique under concurrent writers. */
export function concurrencyTests(ctx: SuiteContext): void {
  describe("concurrency", () => {
    it("50 concurrent appenders (single and batch) end with sequences exactly 1..N, every acknowledged event stored", async () => {
      const f = await newSession(ctx);
      const acknowledged: { id: string; sequence: bigint }[] = [];
      await Promise.all(
        Array.from({ length: 50 }, async (_, writer) => {
          for (let round = 0; round < 3; round++) {
            const id = `w${writer}-r${round}`;
            if ((writer + round) % 2 === 0) {
              const res = await ctx.client.appendEvent({ ...f.key, event: textEvent(id, { id, actions: { stateDelta: { [`w${writer}`]: round } } }) });
              acknowledged.push({ id, sequence: res.event!.sequence });
            } else {
              const events = [0, 1, 2].map((k) => textEvent(`${id}-${k}`, { id: `${id}-${k}` }));
              const res = await ctx.client.appendEvents({ ...f.key, events });
              acknowledged.push(...res.events.map((e) => ({ id: e.id, sequence: e.sequence })));
            }
          }
        }),
      );
      const total = acknowledged.length;
      const stored = (await collect(ctx.client.getEvents(f.key))).flatMap((m) => m.events);
      expect(stored.map((e) => Number(e.sequence))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const storedSeq = new Map(stored.map((e) => [e.id, e.sequence]));
      for (const ack of acknowledged) expect(storedSeq.get(ack.id)).toBe(ack.sequence);
      const session = (await ctx.client.getSession({ ...f.key, numRecentEvents: 0 })).session!;
      expect(session.lastSequence).toBe(BigInt(total));
      expect(Object.keys(session.state ?? {})).toHaveLength(50);
    });

    it("lets exactly one of many writers with the same expected_last_sequence win", async () => {
      const f = await newSession(ctx);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => ctx.client.appendEvent({ ...f.key, event: textEvent(`c${i}`), expectedLastSequence: 0n })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      for (const r of lost) expect((r.reason as ConnectError).code).toBe(Code.Aborted);
      expect((await ctx.client.getSession(f.key)).session!.events).toHaveLength(1);
    });
  });
}
