import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/stores/open.js";
import { appendMany, newSession, textEvent } from "../conformance/context.js";
import { instrument } from "../support/instrumented-store.js";
import { startTestServer } from "../support/server.js";
import { NO_POLL_MS, type StreamContext } from "./context.js";
import { eventually, Follower } from "./follower.js";

/** How follow streams end: cancellation, deadlines, server drain; and what they leave behind. */
export function lifecycleTests(ctx: StreamContext, options: { shared: boolean }): void {
  describe("follow stream lifecycle", () => {
    it("shares one store subscription per session and releases it, and every listener, when followers cancel", async () => {
      // The store's own subscribe when it has one; otherwise one provided in process over it.
      const { store, counters } = instrument(ctx.inner, { subscribe: true, keepOpen: true });
      const running = await startTestServer(store, { pollIntervalMs: NO_POLL_MS });
      try {
        const f = await newSession(ctx);
        const g = await newSession(ctx);
        await appendMany(ctx, f, 700);
        const followers = [
          new Follower(running.client, { ...f.key, follow: true }),
          new Follower(running.client, { ...f.key, follow: true, filter: { author: "user" } }),
          new Follower(running.client, { ...f.key, follow: true, filter: { afterSequence: 690n } }),
          new Follower(running.client, { ...g.key, follow: true }),
        ];
        await Promise.all(followers.map((x) => x.caughtUp()));
        expect(running.server.followStats()).toEqual({ sessions: 2, followers: 4, subscriptions: 2 });
        expect(counters.subscribes).toBe(2);
        await running.client.appendEvent({ ...f.key, event: textEvent("live") });
        await Promise.all(followers.slice(0, 3).map((x, i) => x.received([701, 701, 11][i]!)));
        await followers[0]!.cancel();
        await eventually(() => running.server.followStats().followers === 3, "one follower to leave");
        expect(running.server.followStats()).toEqual({ sessions: 2, followers: 3, subscriptions: 2 });
        expect(counters.unsubscribes).toBe(0);
        await Promise.all(followers.map((x) => x.cancel()));
        await eventually(() => running.server.followStats().followers === 0, "every follower to leave");
        await eventually(() => counters.unsubscribes === 2, "subscriptions to be released");
        expect(running.server.followStats()).toEqual({ sessions: 0, followers: 0, subscriptions: 0 });

        // Cancelled while still replaying a long history: nothing left either.
        const replaying = new Follower(running.client, { ...f.key, follow: true });
        await replaying.received(1);
        await replaying.cancel();
        await eventually(() => running.server.followStats().sessions === 0, "the replaying follower to leave");
        await eventually(() => counters.unsubscribes === counters.subscribes, "its subscription to be released");
        expect(ctx.server.followStats()).toEqual({ sessions: 0, followers: 0, subscriptions: 0 });
      } finally {
        await running.close();
      }
    });

    it("ends a follow stream with DEADLINE_EXCEEDED when its deadline passes, leaving nothing behind", async () => {
      const f = await newSession(ctx);
      await appendMany(ctx, f, 2);
      const follower = new Follower(ctx.client, { ...f.key, follow: true }, { timeoutMs: 1000 });
      await follower.done;
      expect(follower.error?.code).toBe(Code.DeadlineExceeded);
      expect(follower.caughtUpAt).toBeGreaterThanOrEqual(0);
      expect(follower.sequences).toEqual([1, 2]);
      await eventually(() => ctx.server.followStats().followers === 0, "the server to drop the follower");
    });

    it("ends follow streams with UNAVAILABLE when the server drains, and closes without waiting for the grace period", async () => {
      // A server of its own: closing it closes its store.
      const own = options.shared ? await openStore(ctx.storeUrl) : ctx.inner;
      const running = await startTestServer(instrument(own, { keepOpen: !options.shared }).store, { pollIntervalMs: NO_POLL_MS });
      const f = await newSession({ client: running.client, store: own });
      await appendMany({ client: running.client, store: own }, f, 3);
      const tailing = new Follower(running.client, { ...f.key, follow: true });
      const filtered = new Follower(running.client, { ...f.key, follow: true, filter: { author: "nobody" } });
      await Promise.all([tailing.caughtUp(), filtered.caughtUp()]);
      // A minute of grace: if follow streams held the drain, this would time the test out.
      await running.server.close(60_000);
      await Promise.all([tailing.done, filtered.done]);
      expect(tailing.error?.code).toBe(Code.Unavailable);
      expect(tailing.error?.rawMessage).toContain("after_sequence");
      expect(filtered.error?.code).toBe(Code.Unavailable);
      expect(running.server.followStats()).toEqual({ sessions: 0, followers: 0, subscriptions: 0 });
      expect(tailing.sequences).toEqual([1, 2, 3]);
    });
  });
}
