import { createHash } from "node:crypto";
import type { Sql } from "postgres";
import type { SessionKey } from "../../core/types.js";

/**
 * Cross-process append notifications over LISTEN/NOTIFY. Appends call
 * pg_notify(channel, topic) inside their transaction, so a notification
 * arrives only after commit. A notification means "re-read the store": a
 * lost one (e.g. while the listening connection reconnects) only delays a
 * follower, and a hash collision only wakes one for nothing.
 */

/** Longest channel name PostgreSQL keeps (NAMEDATALEN - 1). */
const MAX_CHANNEL = 63;

/**
 * The channel of a schema and table prefix: `sessiond.<schema>.<prefix>`
 * when that fits into an identifier, otherwise `sessiond.` and a hash.
 * Channels are database-wide, hence the schema in the name.
 */
export function notifyChannel(schema: string, prefix: string): string {
  const readable = `sessiond.${schema}.${prefix}`;
  if (readable.length <= MAX_CHANNEL) return readable;
  return `sessiond.${createHash("sha256").update(`${schema}.${prefix}`).digest("hex").slice(0, 32)}`;
}

/** The payload naming a session: a fixed-length hash, far below NOTIFY's 8000-byte limit whatever the ids. */
export function sessionTopic(key: SessionKey): string {
  return createHash("sha256").update(JSON.stringify([key.appName, key.userId, key.sessionId])).digest("base64url").slice(0, 22);
}

/**
 * One LISTEN on the store's own listening connection, fanned out in
 * process to per-session listeners. The channel is listened to from the
 * first subscription until the pool ends: the driver then owns exactly one
 * listener, which it re-registers by itself after a reconnect.
 */
export class NotifyHub {
  private readonly listeners = new Map<string, Set<() => void>>();
  private listening: Promise<unknown> | undefined;

  constructor(
    private readonly sql: Sql,
    readonly channel: string,
  ) {}

  /** Calls `listener` after each committed append to the session; resolves once listening. */
  async subscribe(key: SessionKey, listener: () => void): Promise<() => Promise<void>> {
    const listening = (this.listening ??= this.sql.listen(this.channel, (payload) => this.dispatch(payload)));
    try {
      await listening;
    } catch (error) {
      if (this.listening === listening) this.listening = undefined;
      throw error;
    }
    const topic = sessionTopic(key);
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    // A distinct function per subscription, so subscribing one listener twice needs two unsubscribes.
    const entry = () => listener();
    set.add(entry);
    return async () => {
      set.delete(entry);
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic);
    };
  }

  private dispatch(topic: string): void {
    const set = this.listeners.get(topic);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener();
      } catch {
        // One listener's failure must not keep the others from waking.
      }
    }
  }
}
