import type { Cluster, Redis } from "ioredis";
import type { SessionKey } from "../../core/types.js";
import { appMember, appliedField, type RedisKeys } from "./redis-keys.js";
import { PRELUDE, RedisScript } from "./redis-scripts.js";

/**
 * The second step of every Redis write: what a write changes in its app's
 * slot, and the protocol that keeps it exact although a cluster cannot
 * change two slots atomically.
 *
 * A session's own keys and its user's state share the session's hash tag;
 * the app-wide keys (the app's state, its session index, its users and the
 * applied markers) share the app's. A write is first one session script
 * (see redis-scripts.ts), which stores the write's app-state delta as
 * *pending*, under the sequence the write got (0 for a create), in the same
 * atomic step as the events. Then {@link AppSlot.finishWrite} runs APP in
 * the app's slot, and afterwards removes the deltas it applied from pending.
 *
 * Invariants:
 * - A pending delta is applied exactly once, in sequence order: APP applies
 *   only deltas above the session incarnation's applied marker and raises
 *   the marker in the same step, so repeating the second step (a retry, or
 *   the next write after a process died between the steps) changes nothing
 *   twice. The marker is per incarnation (the session's create time), so a
 *   session deleted and created again starts from nothing.
 * - Pending deltas outlive only an unfinished second step: every write of
 *   the session, even a pure retry, finishes the pending ones it sees.
 * - The app's index entry of a session never moves back (ZADD GT), except
 *   when the write itself moved the update time back (a restore, or an
 *   append of older events), and then it is set.
 * - Readers trust the session record over the index: an entry whose
 *   session is gone is removed and one with another score is rescored, by
 *   compare-and-set ({@link reconcile}), so a concurrent writer's newer
 *   entry survives.
 * - Deleting a session forgets its entry and its marker ({@link AppSlot.forget}).
 */

type Client = Redis | Cluster;

/** KEYS of APP: the app slot's keys a write may change. */
type AppKeys = [appState: string, sessions: string, users: string, applied: string];

/** ARGV[1] of APP. */
interface AppHeader {
  /** Expiry of the keys in seconds; "0" removes it. */
  ttl: string;
  /** The session's member of the app index (user id, id). */
  member: string;
  /** The session's update time for the app index; "" leaves the entry as it is. */
  ut: string;
  /** Set the entry even when that moves it back. */
  set: boolean;
  user: string;
  /** The applied-marker field of the session incarnation. */
  marker: string;
  /** Pending deltas in sequence order: sequence, JSON object of key → JSON value ('null' deletes). */
  deltas: string[];
}

/**
 * Moves the session's index entry (GT: never back, unless `set`), remembers
 * the user, and applies pending app deltas with a sequence above the
 * session's applied marker, in order, exactly once.
 */
const APP = new RedisScript<AppKeys, [AppHeader]>(`${PRELUDE}
local h = cjson.decode(ARGV[1])
if h.ut ~= '' then
  if h.set then redis.call('ZADD', KEYS[2], h.ut, h.member) else redis.call('ZADD', KEYS[2], 'GT', h.ut, h.member) end
end
redis.call('SADD', KEYS[3], h.user)
if #h.deltas > 0 then
  local cur = tonumber(redis.call('HGET', KEYS[4], h.marker) or '-1')
  for i = 1, #h.deltas, 2 do
    local seq = tonumber(h.deltas[i])
    if seq > cur then
      for k, v in pairs(cjson.decode(h.deltas[i + 1])) do
        if v == 'null' then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, v) end
      end
      cur = seq
    end
  end
  redis.call('HSET', KEYS[4], h.marker, tostring(cur))
end
touch(tonumber(h.ttl))
return 1
`);

/** Removes a deleted session from its app's index and applied markers. */
const FORGET = new RedisScript<[sessions: string, applied: string], [member: string, marker: string]>(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
`);

/**
 * Compare-and-set on an index entry found stale by a reader: removes it
 * (newScore "") or rescores it, but only if its score is still `seen`.
 */
const RECONCILE = new RedisScript<[index: string], [member: string, seen: string, newScore: string]>(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur or tonumber(cur) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`);

/** The app slot of a Redis store: the second step of its writes. */
export class AppSlot {
  constructor(
    private readonly client: Client,
    private readonly keys: RedisKeys,
    private readonly ttl: string,
  ) {}

  /**
   * The second step of a write: moves the app index entry to `ut` (unless
   * ""), applies `pending` (the session's pending hash as field/value
   * pairs) exactly once, then clears the applied deltas from the session.
   * `ct` is the session's create time, naming its incarnation.
   */
  async finishWrite(key: SessionKey, ct: string, ut: string, pending: string[], set = false): Promise<void> {
    const entries: [number, string][] = [];
    for (let i = 0; i + 1 < pending.length; i += 2) entries.push([Number(pending[i]), pending[i + 1]!]);
    entries.sort((a, b) => a[0] - b[0]);
    const a = this.keys.app(key.appName);
    const header: AppHeader = {
      ttl: this.ttl,
      member: appMember(key.userId, key.sessionId),
      ut,
      set,
      user: key.userId,
      marker: appliedField(key, ct),
      deltas: entries.flatMap(([seq, json]) => [String(seq), json]),
    };
    await APP.run(this.client, [a.appState, a.sessions, a.users, a.applied], [header]);
    if (entries.length > 0) await this.client.hdel(this.keys.session(key).pending, ...entries.map(([seq]) => String(seq)));
  }

  /** Drops a deleted session (incarnation `ct`) from the app's index and markers. */
  async forget(key: SessionKey, ct: string): Promise<void> {
    const a = this.keys.app(key.appName);
    await FORGET.run(this.client, [a.sessions, a.applied], [appMember(key.userId, key.sessionId), appliedField(key, ct)]);
  }
}

/** Drops (newScore "") or rescores an index entry, if it still has the score the reader saw. */
export async function reconcile(client: Client, index: string, member: string, seen: number, newScore = ""): Promise<void> {
  await RECONCILE.run(client, [index], [member, String(seen), newScore]);
}
