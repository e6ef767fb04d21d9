import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendMany, newSession, textEvent } from "../conformance/context.js";
import { type ChildServer, startChildServer } from "../support/child-server.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { NO_POLL_MS, type StreamContext } from "./context.js";
import { Follower, range } from "./follower.js";

/** Poll of the follower's server for stores that cannot notify other processes. */
const POLL_MS = 100;

/**
 * Two servers in two OS processes over one store: changes made through one
 * reach followers of the other, through the store's subscription when it has
 * one (the poll is then a minute, so only the subscription can pass), else
 * through the poll.
 */
export function crossProcessTests(ctx: StreamContext): void {
  describe("follow across processes", () => {
    let writer: ChildServer | undefined;
    let reader: TestServer | undefined;
    beforeAll(async () => {
      writer = await startChildServer(ctx.storeUrl);
      reader = await startTestServer(ctx.store, { pollIntervalMs: ctx.inner.subscribe ? NO_POLL_MS : POLL_MS });
    });
    afterAll(async () => {
      await writer?.close();
      await reader?.server.close(2000);
    });

    it("delivers events appended through another process, in order, without gaps", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 2);
      const follower = new Follower(reader!.client, { ...f.key, follow: true });
      const models = new Follower(reader!.client, { ...f.key, follow: true, filter: { author: "model" } });
      await Promise.all([follower.caughtUp(), models.caughtUp()]);
      await writer!.client.appendEvent({ ...f.key, event: textEvent("from A", { author: "model" }) });
      await follower.received(3);
      expect(follower.messages.at(-1)!.events[0]!.content).toEqual(textEvent("from A").content);
      await Promise.all(
        range(0, 2).map(async (w) => {
          for (let i = 0; i < 10; i++) {
            const client = w === 0 ? ctx.client : writer!.client;
            await client.appendEvent({ ...f.key, event: textEvent(`w${w}-${i}`, { author: i % 2 ? "model" : "user" }) });
          }
        }),
      );
      await follower.received(33);
      await models.received(16);
      await Promise.all([follower.cancel(), models.cancel()]);
      expect(follower.sequences).toEqual(range(1, 33));
      expect(models.sequences).toHaveLength(16);
      expect(models.sequences).toEqual([...models.sequences].sort((a, b) => a - b));
    });

    it("ends a follower with NOT_FOUND when another process deletes the session", async () => {
      const f = await newSession(ctx);
      const follower = new Follower(reader!.client, { ...f.key, follow: true });
      await follower.caughtUp();
      await writer!.client.deleteSession(f.key);
      await follower.done;
      expect(follower.error?.code).toBe(Code.NotFound);
    });
  });
}
