import type { Cluster, Redis } from "ioredis";
import { SessiondError, sessionExists, sessionNotFound, sequenceConflict } from "../core/errors.js";
import { statePurge } from "../core/delete-scope.js";
import { eventMatches } from "../core/match.js";
import { inRecentEventsRange, recentEventsRange } from "../core/recent-events.js";
import { restoreGap } from "../core/restore.js";
import { newSessionRecord } from "../core/session-patch.js";
import type {
  AppListQuery,
  AppSummary,
  AppendBatch,
  AppendOutcome,
  DeleteScope,
  EventPageQuery,
  ForkPlan,
  JsonObject,
  NewSession,
  RecentEventsQuery,
  SessionKey,
  SessionListQuery,
  SessionPatch,
  SessionRecord,
  SessionView,
  StoredEvent,
} from "../core/types.js";
import { withinCallDeadline } from "./call-deadline.js";
import { appDeltaJson, eventValue, pairsToObject, recordFrom, stateFrom, statePairs } from "./private/redis-codec.js";
import { connectRedis, parseRedisUrl, type RedisTarget } from "./private/redis-connect.js";
import { appSessionKeys, EVENT_CHUNK, listAppsFromIndex, listFromIndex, readEventRange, readState, scanAll, scanIndex } from "./private/redis-index.js";
import { AppSlot } from "./private/redis-app-slot.js";
import { RedisKeys, scanMember, sessionKeyList } from "./private/redis-keys.js";
import { forkInto } from "./private/redis-fork.js";
import { type RedisScript, type SessionScriptKeys, scripts } from "./private/redis-scripts.js";
import { RedisSubscriber } from "./private/redis-subscriber.js";
import type { Store } from "./store.js";

/** Options of the Redis store; the URL's query string overrides them. */
export interface RedisStoreOptions {
  /** Key prefix (default "sessiond"). */
  prefix?: string;
  /** Expiry of a session's keys after its last write, in seconds; 0 (default) never. */
  ttlSeconds?: number;
  /** Record the key layout version when the prefix has none (default true). */
  autoMigrate?: boolean;
  /** Fail (not_found) when the prefix holds no layout version, i.e. sessiond never wrote there. */
  mustExist?: boolean;
}

/** How long opening waits for the server or cluster to answer. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Version of the key layout, kept under `{<prefix>}:version`. */
const LAYOUT_VERSION = 1;

/**
 * Redis or Redis Cluster through ioredis. A session's keys and its user's
 * state share one hash tag, and every write to them is one Lua script, so
 * appends (sequences, events, session and user state) are atomic and
 * gapless in a cluster too. App-wide keys (app state, the app's session
 * index) live in the app's slot and are updated by a second, idempotent
 * script; see docs/stores.md "Redis" for the exact guarantees.
 */
export class RedisStore implements Store {
  readonly kind = "redis";
  readonly keepsEncodedTails = true;
  // Replays of 1,000,000 events in the bench: 135k events/s reading 1,000 per call, 177k reading 4,000 in pipelined chunks.
  readonly streamPageSize = 4 * EVENT_CHUNK;
  private readonly subscriber: RedisSubscriber;
  /** The second step of every write (see redis-app-slot.ts). */
  private readonly appSlot: AppSlot;

  private constructor(
    private readonly client: Redis | Cluster,
    private readonly target: RedisTarget,
    /** The key layout, for tools and tests. */
    readonly keys: RedisKeys,
  ) {
    this.subscriber = new RedisSubscriber(() => connectRedis(target, true));
    this.appSlot = new AppSlot(client, keys, String(target.ttlSeconds));
  }

  /** Connects to the server or cluster a `redis://`, `rediss://` or `redis+cluster://` URL names. */
  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const target = parseRedisUrl(url, options);
    const client = connectRedis(target);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      });
      await Promise.race([client.connect().then(() => client.ping()), timeout]);
    } catch (error) {
      client.disconnect();
      const where = target.nodes.map((n) => `${n.host}:${n.port}`).join(",");
      throw new SessiondError("unavailable", `store: Redis at ${where} is unreachable: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const store = new RedisStore(client, target, new RedisKeys(target.prefix));
    try {
      await store.checkLayout(!options.mustExist && (options.autoMigrate ?? true), options.mustExist);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return store;
  }

  async createSession(input: NewSession): Promise<SessionView> {
    const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
    const record = newSessionRecord(input);
    const now = String(input.nowUs);
    const app = input.delta.app && Object.keys(input.delta.app).length > 0 ? appDeltaJson(input.delta.app) : "";
    const header = {
      sid: input.id,
      agent: input.agentId,
      meta: JSON.stringify(input.metadata),
      now,
      ttl: this.ttl,
      init: JSON.stringify(record.state),
      s: statePairs(input.delta.session),
      u: statePairs(input.delta.user),
      a: app,
    };
    const result = await this.sessionScript(scripts.create, key, [header]);
    if (result === 0) throw sessionExists(key);
    await Promise.all([this.appSlot.finishWrite(key, now, now, result[2]), this.indexForScan(key)]);
    return { session: record, userState: stateFrom(result[1]), appState: await readState(this.client, this.keys.app(key.appName).appState) };
  }

  async getSession(key: SessionKey, query: RecentEventsQuery): Promise<{ view: SessionView; events: StoredEvent[] }> {
    const k = this.keys.session(key);
    const [results, appState] = await Promise.all([
      this.client.multi().hgetall(k.record).hgetall(k.state).hgetall(k.userState).exec(),
      readState(this.client, this.keys.app(key.appName).appState),
    ]);
    const [hash, state, userState] = (results ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as Record<string, string>;
    });
    const record = recordFrom(key, hash ?? {}, stateFrom(state ?? {}));
    if (!record) throw sessionNotFound(key);
    let events: StoredEvent[] = [];
    const range = recentEventsRange(query, record.lastSequence);
    if (range) {
      // Without a time bound the range is by sequence alone, which encoded events keep.
      const encoded = query.encoded === true && range.afterTimeUs === undefined;
      events = await readEventRange(this.client, k.events, range.afterSequence + 1, record.lastSequence, encoded);
      events = events.filter((e) => inRecentEventsRange(e, range));
    }
    return { view: { session: record, appState, userState: stateFrom(userState ?? {}) }, events };
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    const header = {
      sid: key.sessionId,
      exp: patch.expectedLastSequence === undefined ? "" : String(patch.expectedLastSequence),
      now: String(patch.nowUs),
      ttl: this.ttl,
      status: patch.status,
      meta: patch.metadata === undefined ? undefined : JSON.stringify(patch.metadata),
      agent: patch.agentId,
    };
    const result = await this.sessionScript(scripts.update, key, [header]);
    this.checkOutcome(key, result, patch.expectedLastSequence);
    const [, hash, state, userState] = result as ["ok", string[], string[], string[]];
    const record = recordFrom(key, pairsToObject(hash), stateFrom(state))!;
    await this.appSlot.finishWrite(key, String(record.createTimeUs), header.now, []);
    return { session: record, userState: stateFrom(userState), appState: await readState(this.client, this.keys.app(key.appName).appState) };
  }

  async deleteSession(key: SessionKey): Promise<void> {
    if (!(await this.deleteOne(key, {}))) throw sessionNotFound(key);
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const records = await listFromIndex(this.client, this.keys, query);
    const appState = await readState(this.client, this.keys.app(query.appName).appState);
    const users = [...new Set(records.map((r) => r.userId))];
    const states = await Promise.all(users.map((u) => readState(this.client, this.keys.user(query.appName, u).userState)));
    const byUser = new Map(users.map((u, i) => [u, states[i]!]));
    return records.map((session) => ({ session, appState, userState: byUser.get(session.userId)! }));
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    return listAppsFromIndex(this.client, this.keys, query);
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    const k = this.keys.session(key);
    const header = {
      sid: key.sessionId,
      exp: batch.expectedLastSequence === undefined ? "" : String(batch.expectedLastSequence),
      now: String(batch.nowUs),
      ttl: this.ttl,
      chan: k.channel,
      ev: batch.events.map(({ event, delta }) => ({
        id: event.id,
        ts: String(event.timestampUs),
        s: statePairs(delta.session),
        u: statePairs(delta.user),
        a: statePairs(delta.app),
      })),
    };
    const bodies = batch.events.map((p) => eventValue(p.event));
    const result = await this.sessionScript(scripts.append, key, [header, ...bodies]);
    this.checkOutcome(key, result, batch.expectedLastSequence);
    const [, last, ct, assigned, pending, fresh, ut, previousUt] = result as ["ok", number, string, string[], string[], number, string, string];
    // The app index only moves forward (GT) against racing writers, unless this append moved ut back.
    const back = fresh > 0 && Number(ut) < Number(previousUt);
    if (fresh > 0 || pending.length > 0) await this.appSlot.finishWrite(key, ct, fresh > 0 ? ut : "", pending, back);
    return {
      lastSequence: Number(last),
      events: assigned.map((value, i) => {
        const [sequence, timestampUs] = value.split(":");
        return { id: batch.events[i]!.event.id, sequence: Number(sequence), timestampUs: Number(timestampUs) };
      }),
    };
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    const k = this.keys.session(key);
    const lastText = await this.client.hget(k.record, "last");
    if (lastText === null) throw sessionNotFound(key);
    const last = Number(lastText);
    const page: StoredEvent[] = [];
    let skip = query.offset ?? 0;
    // Filters are matched here, on the events' fields, which encoded events come without.
    const encoded = query.encoded === true && Object.values(query.filter).every((v) => v === undefined);
    const chunk = Math.min(this.streamPageSize, Math.max(100, query.limit + skip));
    for (let from = query.afterSequence + 1; from <= last && page.length < query.limit; from += chunk) {
      for (const event of await readEventRange(this.client, k.events, from, Math.min(last, from + chunk - 1), encoded)) {
        if (!eventMatches(event, query.filter)) continue;
        if (skip > 0) skip--;
        else if (page.push(event) >= query.limit) break;
      }
    }
    return page;
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    const conditions = {
      before: scope.updatedBeforeUs === undefined ? undefined : String(scope.updatedBeforeUs),
      status: scope.status,
    };
    let count = 0;
    const deleteAll = async (keys: SessionKey[]) => {
      for (let i = 0; i < keys.length; i += 50) {
        const done = await Promise.all(keys.slice(i, i + 50).map((key) => this.deleteOne(key, conditions)));
        count += done.filter(Boolean).length;
      }
    };
    if (scope.appName !== undefined) {
      await deleteAll(await appSessionKeys(this.client, this.keys, scope.appName, scope.userId));
    } else {
      for await (const keys of scanAll(this.client, this.keys)) {
        await deleteAll(keys.filter((key) => scope.userId === undefined || key.userId === scope.userId));
      }
    }
    const purge = statePurge(scope);
    if (purge.kind !== "none") await this.purgeState(purge.appName, purge.kind === "user" ? purge.userId : undefined);
    return count;
  }

  async getSharedState(appName: string, userId: string): Promise<{ appState: JsonObject; userState: JsonObject }> {
    const [appState, userState] = await Promise.all([
      readState(this.client, this.keys.app(appName).appState),
      readState(this.client, this.keys.user(appName, userId).userState),
    ]);
    return { appState, userState };
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    return scanIndex(this.client, this.keys, after, limit);
  }

  async restoreSession(s: SessionRecord): Promise<void> {
    const key = { appName: s.appName, userId: s.userId, sessionId: s.id };
    const header = {
      sid: s.id,
      agent: s.agentId,
      status: s.status,
      meta: JSON.stringify(s.metadata),
      ct: String(s.createTimeUs),
      ut: String(s.updateTimeUs),
      last: String(s.lastSequence),
      ff: s.forkedFrom ? JSON.stringify(s.forkedFrom) : "",
      ttl: this.ttl,
    };
    await this.sessionScript(scripts.restoreSession, key, [header, ...statePairs(s.state)]);
    await Promise.all([this.appSlot.finishWrite(key, header.ct, header.ut, [], true), this.indexForScan(key)]);
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    const header = { ttl: this.ttl };
    for (let i = 0; i === 0 || i < events.length; i += 500) {
      const args = events.slice(i, i + 500).flatMap((e) => [String(e.sequence), e.id, String(e.timestampUs), eventValue(e)]);
      const result = await this.sessionScript(scripts.restoreEvents, key, [header, ...args]);
      if (result === 0) throw sessionNotFound(key);
      if (Array.isArray(result)) throw restoreGap(result[1], result[2]);
    }
  }

  async readInitialState(key: SessionKey): Promise<JsonObject | null> {
    const [ct, init] = await this.client.hmget(this.keys.session(key).record, "ct", "init");
    if (ct == null) throw sessionNotFound(key);
    return init == null ? null : (JSON.parse(init) as JsonObject);
  }

  async forkSession(plan: ForkPlan): Promise<SessionView> {
    const created = await withinCallDeadline(() => forkInto(this.client, this.keys, plan, this.ttl));
    if (!created) throw sessionExists(plan.target);
    const now = String(plan.nowUs);
    await Promise.all([this.appSlot.finishWrite(plan.target, now, now, []), this.indexForScan(plan.target)]);
    const { view } = await this.getSession(plan.target, { numRecentEvents: 0 });
    return view;
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    const replace = async (hashKey: string, value: JsonObject) => {
      const tx = this.client.multi().del(hashKey);
      const pairs = statePairs(value);
      if (pairs.length > 0) tx.hset(hashKey, ...pairs);
      if (this.target.ttlSeconds > 0) tx.expire(hashKey, this.target.ttlSeconds);
      await tx.exec();
    };
    if (state.appState) await replace(this.keys.app(appName).appState, state.appState);
    if (state.userState) {
      await replace(this.keys.user(appName, userId).userState, state.userState);
      const users = this.keys.app(appName).users;
      await this.client.sadd(users, userId);
      if (this.target.ttlSeconds > 0) await this.client.expire(users, this.target.ttlSeconds);
    }
  }

  subscribe(key: SessionKey, listener: () => void): Promise<() => Promise<void>> {
    return this.subscriber.subscribe(this.keys.session(key).channel, listener);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.subscriber.close();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private get ttl(): string {
    return String(this.target.ttlSeconds);
  }

  /**
   * Runs a session's script within the call's deadline: not at all once it
   * has passed, and the call fails DEADLINE_EXCEEDED when it passes while
   * the script is on its way (commands are never queued for later: see
   * connectRedis).
   */
  private sessionScript<A extends readonly (string | object)[], R>(script: RedisScript<SessionScriptKeys, A, R>, key: SessionKey, args: A): Promise<R> {
    return withinCallDeadline(() => script.run(this.client, sessionKeyList(this.keys.session(key)), args));
  }

  private checkOutcome(key: SessionKey, result: readonly [string, ...unknown[]], expected: number | undefined): void {
    if (result[0] === "missing") throw sessionNotFound(key);
    if (result[0] === "conflict") throw sequenceConflict(expected!, Number(result[1]));
  }

  /** Adds a session to the scan index, which never expires: scans and purges drop entries of expired sessions. */
  private async indexForScan(key: SessionKey): Promise<void> {
    await this.client.zadd(this.keys.scanIndex, 0, scanMember(key));
  }

  /** Deletes one session if it matches; then drops it from the app-wide indexes. */
  private async deleteOne(key: SessionKey, conditions: { before?: string; status?: string }): Promise<boolean> {
    const result = await this.sessionScript(scripts.delete, key, [{ sid: key.sessionId, ...conditions }]);
    if (result[0] !== 1) return false;
    await Promise.all([
      this.appSlot.forget(key, result[1]),
      this.client.zrem(this.keys.scanIndex, scanMember(key)),
      // Followers in other processes re-read and find the session gone.
      this.client.spublish(this.keys.session(key).channel, "deleted"),
    ]);
    return true;
  }

  private async purgeState(appName: string, userId: string | undefined): Promise<void> {
    const a = this.keys.app(appName);
    if (userId !== undefined) {
      await this.client.del(this.keys.user(appName, userId).userState);
      return;
    }
    const users = await this.client.smembers(a.users);
    await Promise.all(users.map((u) => this.client.del(this.keys.user(appName, u).userState)));
    await this.client.del(a.appState, a.users, a.applied);
  }

  /** Requires Redis 7; records the layout version on first use (or, with `mustExist`, requires one); refuses a layout newer than this code. */
  private async checkLayout(record: boolean, mustExist = false): Promise<void> {
    const version = /redis_version:(\d+)/.exec(await this.client.info("server"))?.[1];
    if (version !== undefined && Number(version) < 7) {
      throw new SessiondError("unavailable", `store: Redis 7 or newer is required (sharded pub/sub in scripts), the server runs ${version}`);
    }
    if (record) await this.client.set(this.keys.version, String(LAYOUT_VERSION), "NX");
    const found = await this.client.get(this.keys.version);
    if (found === null && mustExist) throw new SessiondError("not_found", `store: Redis holds no sessiond data under prefix ${this.keys.prefix}`);
    const stored = Number(found);
    if (stored > LAYOUT_VERSION) {
      throw new SessiondError("unavailable", `store: key layout version ${stored} under prefix ${this.keys.prefix} is newer than this server's ${LAYOUT_VERSION}`);
    }
  }
}
