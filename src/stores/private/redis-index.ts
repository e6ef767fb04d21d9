import type { Cluster, Redis } from "ioredis";
import { appListed, compareSessionKeys, sessionCursor, sessionMatches } from "../../core/match.js";
import type { AppListQuery, AppSummary, JsonObject, SessionKey, SessionListQuery, SessionRecord, StoredEvent } from "../../core/types.js";
import { eventFromValue, recordFrom, stateFrom } from "./redis-codec.js";
import { type RedisKeys, SEP, scanMember } from "./redis-keys.js";
import { reconcile } from "./redis-app-slot.js";

/**
 * Reads of the Redis store: records, event ranges and the listing indexes.
 * The app's index is written in a write's second step (redis-app-slot.ts),
 * so readers trust the session record and reconcile stale entries; a
 * rescored entry is listed now only if its true position is in the range
 * being read.
 */

type Client = Redis | Cluster;

/** Events read per HMGET. */
export const EVENT_CHUNK = 1000;

/** Reads a session's record and own state in one transaction (same slot); undefined when missing. */
export async function loadRecord(client: Client, keys: RedisKeys, key: SessionKey): Promise<SessionRecord | undefined> {
  const k = keys.session(key);
  const results = (await client.multi().hgetall(k.record).hgetall(k.state).exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  const [hash, state] = results.map(([, value]) => value as Record<string, string>);
  return recordFrom(key, hash ?? {}, stateFrom(state ?? {}));
}

/** One ListSessions page (before offset/limit trimming by the caller's extra row), from the user's or the app's index. */
export async function listFromIndex(client: Client, keys: RedisKeys, query: SessionListQuery): Promise<SessionRecord[]> {
  const { appName, userId } = query;
  const index = userId !== undefined ? keys.user(appName, userId).sessions : keys.app(appName).sessions;
  const keyOf = (member: string): SessionKey => {
    if (userId !== undefined) return { appName, userId, sessionId: member };
    const at = member.indexOf(SEP);
    return { appName, userId: member.slice(0, at), sessionId: member.slice(at + 1) };
  };
  const desc = query.order === "desc";
  const direction = desc ? -1 : 1;
  const chunk = Math.min(1000, Math.max(50, query.limit + query.offset));
  const end = desc ? "-inf" : "+inf";
  let bound = query.after ? String(query.after.updateTimeUs) : desc ? "+inf" : "-inf";
  let skip = query.offset;
  let previous: number | undefined;
  const out: SessionRecord[] = [];
  while (out.length < query.limit) {
    let entries = await rangeByScore(client, index, bound, end, desc, chunk);
    if (entries.length === 0) break;
    const full = entries.length === chunk;
    const lastScore = entries.at(-1)!.score;
    if (full) {
      // Complete the group of entries sharing the last score, so the next chunk can start after it.
      const ties = await rangeByScore(client, index, String(lastScore), String(lastScore), desc, 0);
      entries = [...entries.filter((e) => e.score !== lastScore), ...ties];
    }
    const records = await Promise.all(entries.map((e) => loadRecord(client, keys, keyOf(e.member))));
    // A record whose entry is behind (its write's second step is still running) is listed
    // only if its true position lies in the score range this chunk covers.
    const covers = (us: number) =>
      (previous === undefined || (us - previous) * direction > 0) && (!full || (us - lastScore) * direction <= 0);
    const live: SessionRecord[] = [];
    await Promise.all(
      entries.map(async (entry, i) => {
        const record = records[i];
        if (!record) return reconcile(client, index, entry.member, entry.score);
        if (record.updateTimeUs !== entry.score) {
          await reconcile(client, index, entry.member, entry.score, String(record.updateTimeUs));
          if (!covers(record.updateTimeUs)) return;
        }
        live.push(record);
      }),
    );
    live.sort((a, b) => compareSessionKeys(sessionCursor(a), sessionCursor(b)) * direction);
    for (const record of live) {
      if (query.after && compareSessionKeys(sessionCursor(record), query.after) * direction <= 0) continue;
      if (!sessionMatches(record, query)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(record);
      if (out.length >= query.limit) break;
    }
    if (!full) break;
    bound = `(${lastScore}`;
    previous = lastScore;
  }
  return out;
}

async function rangeByScore(client: Client, index: string, from: string, to: string, desc: boolean, count: number) {
  const limit = count > 0 ? ["LIMIT", 0, count] : [];
  const raw = (
    desc
      ? await client.call("ZRANGE", index, from, to, "BYSCORE", "REV", ...limit, "WITHSCORES")
      : await client.call("ZRANGE", index, from, to, "BYSCORE", ...limit, "WITHSCORES")
  ) as string[];
  const entries: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) entries.push({ member: raw[i]!, score: Number(raw[i + 1]) });
  return entries;
}

/** Sessions of every app in (app, user, id) byte order after `after`, from the scan index. */
export async function scanIndex(client: Client, keys: RedisKeys, after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
  const out: SessionRecord[] = [];
  let from = after ? `(${scanMember(after)}` : "-";
  while (out.length < limit) {
    const want = limit - out.length;
    const members = (await client.call("ZRANGE", keys.scanIndex, from, "+", "BYLEX", "LIMIT", 0, want)) as string[];
    const found = await Promise.all(members.map((m) => loadRecord(client, keys, keyOfScanMember(m))));
    for (let i = 0; i < members.length; i++) {
      const record = found[i];
      if (record) out.push(record);
      else await reconcile(client, keys.scanIndex, members[i]!, 0);
    }
    if (members.length < want) break;
    from = `(${members.at(-1)!}`;
  }
  return out;
}

/**
 * Apps with sessions, in byte order, from the scan index: one lookup finds
 * the next app, one ZLEXCOUNT counts its members. Under a TTL the counts may
 * include expired sessions until a scan or purge drops their entries.
 */
export async function listAppsFromIndex(client: Client, keys: RedisKeys, query: AppListQuery): Promise<AppSummary[]> {
  // Members of app A are "A\0user\0id", so every one of them lies in [A\0, A\x01).
  const count = async (appName: string) =>
    Number(await client.zlexcount(keys.scanIndex, `[${appName}${SEP}`, `(${appName}\u0001`));
  const out: AppSummary[] = [];
  if (query.only !== undefined) {
    const names = query.only.filter((name) => appListed(name, query)).sort();
    for (let i = 0; i < names.length && out.length < query.limit; i += 50) {
      const chunk = names.slice(i, i + 50);
      const counts = await Promise.all(chunk.map(count));
      chunk.forEach((appName, j) => {
        if (counts[j]! > 0 && out.length < query.limit) out.push({ appName, sessionCount: counts[j]! });
      });
    }
    return out;
  }
  let from = query.after !== undefined ? `(${query.after}\u0001` : query.prefix !== "" ? `[${query.prefix}` : "-";
  while (out.length < query.limit) {
    const [member] = (await client.call("ZRANGE", keys.scanIndex, from, "+", "BYLEX", "LIMIT", 0, 1)) as string[];
    if (member === undefined) break;
    const appName = member.slice(0, member.indexOf(SEP));
    if (!appName.startsWith(query.prefix)) break;
    const sessionCount = await count(appName);
    if (sessionCount > 0) out.push({ appName, sessionCount });
    from = `(${appName}\u0001`;
  }
  return out;
}

/** The session key of a scan index member. */
export function keyOfScanMember(member: string): SessionKey {
  const [appName, userId, sessionId] = member.split(SEP) as [string, string, string];
  return { appName, userId, sessionId };
}

/** Every member of the scan index, page by page (for purges spanning all apps). */
export async function* scanAll(client: Client, keys: RedisKeys): AsyncGenerator<SessionKey[]> {
  let from = "-";
  for (;;) {
    const members = (await client.call("ZRANGE", keys.scanIndex, from, "+", "BYLEX", "LIMIT", 0, 500)) as string[];
    if (members.length > 0) yield members.map(keyOfScanMember);
    if (members.length < 500) return;
    from = `(${members.at(-1)!}`;
  }
}

/**
 * Every session key an app-wide operation must reach: the app index plus
 * each known user's own index (which the session's atomic write keeps exact).
 */
export async function appSessionKeys(client: Client, keys: RedisKeys, appName: string, userId?: string): Promise<SessionKey[]> {
  const found = new Map<string, SessionKey>();
  const add = (key: SessionKey) => found.set(key.userId + SEP + key.sessionId, key);
  const userIds = userId !== undefined ? [userId] : await client.smembers(keys.app(appName).users);
  if (userId === undefined) {
    for (const member of await client.zrange(keys.app(appName).sessions, 0, -1)) {
      const at = member.indexOf(SEP);
      add({ appName, userId: member.slice(0, at), sessionId: member.slice(at + 1) });
    }
  }
  const perUser = await Promise.all(userIds.map((u) => client.zrange(keys.user(appName, u).sessions, 0, -1)));
  userIds.forEach((u, i) => perUser[i]!.forEach((sessionId) => add({ appName, userId: u, sessionId })));
  return [...found.values()];
}

/**
 * Events with sequences from..to (inclusive), in order, read in HMGET chunks
 * sent together (one round trip); `encoded` as in eventFromValue.
 */
export async function readEventRange(client: Client, eventsKey: string, from: number, to: number, encoded = false): Promise<StoredEvent[]> {
  const starts: number[] = [];
  for (let start = from; start <= to; start += EVENT_CHUNK) starts.push(start);
  const chunks = await Promise.all(
    starts.map((start) => client.hmgetBuffer(eventsKey, ...Array.from({ length: Math.min(EVENT_CHUNK, to - start + 1) }, (_, i) => String(start + i)))),
  );
  const events: StoredEvent[] = [];
  chunks.forEach((values, c) => {
    values.forEach((value, i) => {
      if (value !== null) events.push(eventFromValue(starts[c]! + i, value, encoded));
    });
  });
  return events;
}

/** A state hash as an object. */
export async function readState(client: Client, key: string): Promise<JsonObject> {
  return stateFrom(await client.hgetall(key));
}
