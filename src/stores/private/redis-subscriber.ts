import type { Cluster, Redis } from "ioredis";

/**
 * Append notifications over sharded pub/sub: the append script SPUBLISHes on
 * the session's channel, which carries the session's hash tag, so in a
 * cluster the message stays on the shard that owns the session. One
 * subscriber client per store (in a cluster it keeps a connection per
 * master), opened on first use; listeners are dispatched in process. A lost
 * message only delays a follower, which re-reads the store anyway.
 */
export class RedisSubscriber {
  private client: Promise<Redis | Cluster> | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(private readonly connect: () => Redis | Cluster) {}

  /** Calls `listener` on every message on `channel` until the returned function is called. */
  async subscribe(channel: string, listener: () => void): Promise<() => Promise<void>> {
    const client = await this.open();
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      try {
        await client.ssubscribe(channel);
      } catch (error) {
        this.listeners.delete(channel);
        throw error;
      }
    }
    set.add(listener);
    const listeners = set;
    return async () => {
      listeners.delete(listener);
      if (listeners.size > 0 || this.listeners.get(channel) !== listeners) return;
      this.listeners.delete(channel);
      await client.sunsubscribe(channel).catch(() => {});
    };
  }

  /** Disconnects the subscriber client, if one was opened. */
  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    this.listeners.clear();
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    await client?.quit().catch(() => client.disconnect());
  }

  private open(): Promise<Redis | Cluster> {
    this.client ??= (async () => {
      const client = this.connect();
      client.on("smessage", (channel: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener();
      });
      client.on("error", () => {}); // reconnects on its own; a lost message only delays followers
      try {
        await client.connect();
      } catch (error) {
        this.client = undefined;
        client.disconnect();
        throw error;
      }
      return client;
    })();
    return this.client;
  }
}
