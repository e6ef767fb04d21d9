import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/**
 * Lua scripts of the Redis store. Each runs atomically on the node owning its
 * keys, and all KEYS of one script share a hash tag, so they work unchanged
 * in Redis Cluster. Values are JSON text made in TypeScript; the scripts only
 * move strings (cjson decodes just the argument headers, which hold strings),
 * so no number loses precision and an empty object stays `{}`. Every write
 * renews the expiry of all its keys (or removes it when the ttl is 0).
 *
 * Session scripts take the keys of {@link sessionKeyList}:
 * 1 record, 2 state, 3 events, 4 ids, 5 pending, 6 user state, 7 user's sessions.
 * The app slot's scripts, the second step of a write, are in redis-app-slot.ts.
 */

/** KEYS of the session scripts (see sessionKeyList). */
export type SessionScriptKeys = [record: string, state: string, events: string, ids: string, pending: string, userState: string, sessions: string];

/** Lua helpers every script may use: `apply` writes key/JSON pairs to a hash ('null' deletes), `touch` renews the expiry of all KEYS. */
export const PRELUDE = `
local function apply(key, pairs)
  for i = 1, #pairs, 2 do
    if pairs[i + 1] == 'null' then redis.call('HDEL', key, pairs[i]) else redis.call('HSET', key, pairs[i], pairs[i + 1]) end
  end
end
local function touch(ttl)
  for _, key in ipairs(KEYS) do
    if ttl > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end
  end
end
`;

/** ARGV[1] of CREATE. */
export interface CreateHeader {
  sid: string;
  agent: string;
  /** Metadata JSON. */
  meta: string;
  now: string;
  ttl: string;
  /** JSON of the session-scoped initial state. */
  init: string;
  /** Session and user state deltas as flat key/JSON pairs. */
  s: string[];
  u: string[];
  /** The app delta's JSON, or "". */
  a: string;
}

/**
 * Creates a session unless its record exists. ARGV: {@link CreateHeader}.
 * Returns 0 when taken, else {1, user state pairs, pending pairs}.
 */
const CREATE = `${PRELUDE}
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'agent', h.agent, 'status', 'active', 'meta', h.meta, 'ct', h.now, 'ut', h.now, 'last', '0', 'init', h.init)
apply(KEYS[2], h.s)
apply(KEYS[6], h.u)
if h.a ~= '' then redis.call('HSET', KEYS[5], '0', h.a) end
redis.call('ZADD', KEYS[7], h.now, h.sid)
touch(tonumber(h.ttl))
return {1, redis.call('HGETALL', KEYS[6]), redis.call('HGETALL', KEYS[5])}
`;

/** ARGV[1] of APPEND; ARGV[1 + i] is the stored value of event i (see eventValue). */
export interface AppendHeader {
  sid: string;
  /** expected_last_sequence, or "". */
  exp: string;
  now: string;
  ttl: string;
  /** The session's notification channel. */
  chan: string;
  /** Per event: id, timestamp and its session, user and app deltas as key/JSON pairs. */
  ev: { id: string; ts: string; s: string[]; u: string[]; a: string[] }[];
}

/**
 * The whole of planAppend (src/core/append.ts) and the delta rules of
 * src/core/state.ts, in one atomic step: looks up stored ids, checks
 * expected_last_sequence only when something is fresh, numbers fresh events
 * last+1.. in batch order, applies their session and user deltas in order
 * (JSON null deletes), records the combined app delta as pending, and moves
 * last and ut (to the last fresh event's timestamp, which may be older than
 * the previous ut). ARGV: {@link AppendHeader}.
 * Returns {'missing'}, {'conflict', last} or
 * {'ok', last, ct, {"seq:ts" per event}, pending pairs, fresh count, ut, previous ut}.
 */
const APPEND = `${PRELUDE}
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local assigned = {}
local fresh = 0
for i, e in ipairs(h.ev) do
  local hit = redis.call('HGET', KEYS[4], e.id)
  if hit then assigned[i] = hit else assigned[i] = false; fresh = fresh + 1 end
end
if fresh > 0 and h.exp ~= '' and tonumber(h.exp) ~= last then return {'conflict', last} end
local seq = last
local previous_ut = redis.call('HGET', KEYS[1], 'ut')
local ut = previous_ut
if fresh > 0 then
  local app, has_app = {}, false
  for i, e in ipairs(h.ev) do
    if not assigned[i] then
      seq = seq + 1
      local s = tostring(seq)
      redis.call('HSET', KEYS[3], s, ARGV[i + 1])
      assigned[i] = s .. ':' .. e.ts
      ut = e.ts
      redis.call('HSET', KEYS[4], e.id, assigned[i])
      apply(KEYS[2], e.s)
      apply(KEYS[6], e.u)
      for j = 1, #e.a, 2 do app[e.a[j]] = e.a[j + 1]; has_app = true end
    end
  end
  redis.call('HSET', KEYS[1], 'last', tostring(seq), 'ut', ut)
  if has_app then redis.call('HSET', KEYS[5], tostring(seq), cjson.encode(app)) end
  redis.call('ZADD', KEYS[7], ut, h.sid)
  touch(tonumber(h.ttl))
  redis.call('SPUBLISH', h.chan, tostring(seq))
end
return {'ok', seq, redis.call('HGET', KEYS[1], 'ct'), assigned, redis.call('HGETALL', KEYS[5]), fresh, ut, previous_ut}
`;

/** ARGV[1] of UPDATE; unset fields stay as they are. */
export interface UpdateHeader {
  sid: string;
  /** expected_last_sequence, or "". */
  exp: string;
  now: string;
  ttl: string;
  status?: string;
  /** Metadata JSON. */
  meta?: string;
  agent?: string;
}

/**
 * Changes status, metadata or agent after checking expected_last_sequence.
 * ARGV: {@link UpdateHeader}. Returns {'missing'},
 * {'conflict', last} or {'ok', record pairs, state pairs, user state pairs}.
 */
const UPDATE = `${PRELUDE}
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
if h.exp ~= '' and tonumber(h.exp) ~= last then return {'conflict', last} end
if h.status then redis.call('HSET', KEYS[1], 'status', h.status) end
if h.meta then redis.call('HSET', KEYS[1], 'meta', h.meta) end
if h.agent then redis.call('HSET', KEYS[1], 'agent', h.agent) end
redis.call('HSET', KEYS[1], 'ut', h.now)
redis.call('ZADD', KEYS[7], h.now, h.sid)
touch(tonumber(h.ttl))
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[6])}
`;

/** ARGV[1] of DELETE: the session and the conditions it must meet. */
export interface DeleteHeader {
  sid: string;
  /** Only if updated before this time (µs). */
  before?: string;
  status?: string;
}

/**
 * Deletes a session's keys when it exists and matches the optional
 * conditions. ARGV: {@link DeleteHeader}. Returns {0} or {1, ct}.
 */
const DELETE = `
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local r = redis.call('HMGET', KEYS[1], 'ut', 'status', 'ct')
if h.before and tonumber(r[1]) >= tonumber(h.before) then return {0} end
if h.status and r[2] ~= h.status then return {0} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[7], h.sid)
return {1, r[3]}
`;

/** ARGV[1] of RESTORE_SESSION; ARGV[2..] are the state's key/JSON pairs. */
export interface RestoreSessionHeader {
  sid: string;
  agent: string;
  status: string;
  meta: string;
  ct: string;
  ut: string;
  last: string;
  /** The fork origin's JSON, or "". */
  ff: string;
  ttl: string;
}

/**
 * Writes a record verbatim, keeping the larger last sequence and the events.
 * ARGV: {@link RestoreSessionHeader}, then the state's pairs.
 */
const RESTORE_SESSION = `${PRELUDE}
local h = cjson.decode(ARGV[1])
local last = math.max(tonumber(redis.call('HGET', KEYS[1], 'last') or '0'), tonumber(h.last))
redis.call('HSET', KEYS[1], 'agent', h.agent, 'status', h.status, 'meta', h.meta, 'ct', h.ct, 'ut', h.ut, 'last', tostring(last))
if h.ff ~= '' then redis.call('HSET', KEYS[1], 'ff', h.ff) else redis.call('HDEL', KEYS[1], 'ff') end
redis.call('DEL', KEYS[2])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[7], h.ut, h.sid)
touch(tonumber(h.ttl))
return 1
`;

/** ARGV[1] of RESTORE_EVENTS; then sequence, id, timestamp and stored value per event. */
export interface RestoreEventsHeader {
  ttl: string;
}

/**
 * Stores events with their sequences by the rule of core `eventsToRestore`,
 * checked here so the check and the writes are one atomic step: sequences up
 * to the stored top (the events hash holds 1..top) are skipped, the rest must
 * continue it without a gap, else nothing is written. Ids already stored are
 * skipped too; last is raised. ARGV: {@link RestoreEventsHeader}, then
 * seq, id, ts, JSON per event. Returns 0 when the session is missing, {-1, sequence, top} for a
 * gap, 1 otherwise.
 */
const RESTORE_EVENTS = `${PRELUDE}
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local nxt = redis.call('HLEN', KEYS[3]) + 1
local fresh = {}
for i = 2, #ARGV, 4 do
  local seq = tonumber(ARGV[i])
  if seq >= nxt then
    if seq ~= nxt then return {-1, seq, nxt - 1} end
    fresh[#fresh + 1] = i
    nxt = nxt + 1
  end
end
local top = last
for _, i in ipairs(fresh) do
  if redis.call('HEXISTS', KEYS[4], ARGV[i + 1]) == 0 then
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 3])
    redis.call('HSET', KEYS[4], ARGV[i + 1], ARGV[i] .. ':' .. ARGV[i + 2])
    top = math.max(top, tonumber(ARGV[i]))
  end
end
if top > last then redis.call('HSET', KEYS[1], 'last', tostring(top)) end
touch(tonumber(h.ttl))
return 1
`;

/** ARGV[1] of FORK; ARGV[2..] are the state's key/JSON pairs. */
export interface ForkHeader {
  sid: string;
  agent: string;
  meta: string;
  now: string;
  ttl: string;
  last: string;
  /** JSON of the initial state, or "". */
  init: string;
  /** The fork origin's JSON. */
  ff: string;
}

/**
 * Finishes a fork: unless the target's record exists, moves the staged
 * events and ids (KEYS[8], KEYS[9], same slot) into place and writes the
 * record and state, so the session appears whole or not at all. ARGV:
 * {@link ForkHeader}, then the state's pairs.
 * Returns 0 when taken (the staged keys are dropped), else 1.
 */
const FORK = `${PRELUDE}
local h = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[8], KEYS[9])
  return 0
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if redis.call('EXISTS', KEYS[8]) == 1 then
  redis.call('RENAME', KEYS[8], KEYS[3])
  redis.call('RENAME', KEYS[9], KEYS[4])
end
redis.call('HSET', KEYS[1], 'agent', h.agent, 'status', 'active', 'meta', h.meta, 'ct', h.now, 'ut', h.now, 'last', h.last, 'ff', h.ff)
if h.init ~= '' then redis.call('HSET', KEYS[1], 'init', h.init) end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[7], h.now, h.sid)
touch(tonumber(h.ttl))
return 1
`;




/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server lacks
 * it (NOSCRIPT). `Keys` and `Argv` type its KEYS and ARGV (an object in ARGV
 * travels as JSON text: the script's header), `Result` its reply.
 */
export class RedisScript<Keys extends readonly string[], Argv extends readonly (string | object)[], Result = unknown> {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: Redis | Cluster, keys: Keys, argv: Argv): Promise<Result> {
    const args = argv.map((a) => (typeof a === "string" || Buffer.isBuffer(a) ? a : JSON.stringify(a)));
    try {
      return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as Result;
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return (await client.eval(this.source, keys.length, ...keys, ...args)) as Result;
    }
  }
}

/** The session slot's scripts. */
export const scripts = {
  create: new RedisScript<SessionScriptKeys, [CreateHeader], 0 | [1, string[], string[]]>(CREATE),
  append: new RedisScript<SessionScriptKeys, [AppendHeader, ...(string | Buffer)[]], ["missing"] | ["conflict", number] | ["ok", number, string, string[], string[], number, string, string]>(APPEND),
  update: new RedisScript<SessionScriptKeys, [UpdateHeader], ["missing"] | ["conflict", number] | ["ok", string[], string[], string[]]>(UPDATE),
  delete: new RedisScript<SessionScriptKeys, [DeleteHeader], [0] | [1, string]>(DELETE),
  restoreSession: new RedisScript<SessionScriptKeys, [RestoreSessionHeader, ...string[]], 1>(RESTORE_SESSION),
  restoreEvents: new RedisScript<SessionScriptKeys, [RestoreEventsHeader, ...(string | Buffer)[]], 0 | 1 | [-1, number, number]>(RESTORE_EVENTS),
  fork: new RedisScript<[...SessionScriptKeys, stagedEvents: string, stagedIds: string], [ForkHeader, ...string[]], 0 | 1>(FORK),
};
