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
 */

const PRELUDE = `
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

/**
 * Creates a session unless its record exists. ARGV[1]: {sid, agent, meta,
 * now, ttl, init, s, u, a} with init the JSON of the session-scoped initial
 * state, s/u flat key/JSON pairs and a the app delta JSON or "". Returns 0
 * when taken, else {1, user state pairs, pending pairs}.
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

/**
 * The whole of planAppend (src/core/append.ts) and the delta rules of
 * src/core/state.ts, in one atomic step: looks up stored ids, checks
 * expected_last_sequence only when something is fresh, numbers fresh events
 * last+1.. in batch order, applies their session and user deltas in order
 * (JSON null deletes), records the combined app delta as pending, and moves
 * last and ut (to the last fresh event's timestamp, which may be older than
 * the previous ut). ARGV[1]: {sid, exp, now, ttl, chan, ev: [{id, ts, s, u, a}]},
 * ARGV[1 + i]: the JSON of event i.
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

/**
 * Changes status, metadata or agent after checking expected_last_sequence.
 * ARGV[1]: {sid, exp, now, ttl, status?, meta?, agent?}. Returns {'missing'},
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

/**
 * Deletes a session's keys when it exists and matches the optional
 * conditions. ARGV[1]: {sid, before?, status?}. Returns {0} or {1, ct}.
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

/**
 * Writes a record verbatim, keeping the larger last sequence and the events.
 * ARGV[1]: {sid, agent, status, meta, ct, ut, last, ff, ttl} (ff: the fork
 * origin's JSON or ""); ARGV[2..]: state pairs.
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

/**
 * Stores events with their sequences by the rule of core `eventsToRestore`,
 * checked here so the check and the writes are one atomic step: sequences up
 * to the stored top (the events hash holds 1..top) are skipped, the rest must
 * continue it without a gap, else nothing is written. Ids already stored are
 * skipped too; last is raised. ARGV[1]: {ttl}; then seq, id, ts, JSON per
 * event. Returns 0 when the session is missing, {-1, sequence, top} for a
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

/**
 * Finishes a fork: unless the target's record exists, moves the staged
 * events and ids (KEYS[8], KEYS[9], same slot) into place and writes the
 * record and state, so the session appears whole or not at all. ARGV[1]:
 * {sid, agent, meta, now, ttl, last, init, ff}; ARGV[2..]: state pairs.
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
 * The second step of a write, in the app's slot. KEYS: app state, app
 * sessions, users, applied. Moves the session's index entry (GT: never
 * back, unless `set`), remembers the user, and applies pending app deltas
 * with a sequence above the session's applied marker, in order, exactly once.
 * ARGV[1]: {ttl, member, ut, set, user, marker, deltas: [seq, JSON, ...]}.
 */
const APP = `${PRELUDE}
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
`;

/** Removes a deleted session from its app's index and applied markers. KEYS: app sessions, applied. ARGV: member, marker. */
const FORGET = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
`;

/**
 * Compare-and-set on an index entry found stale by a reader: removes it
 * (ARGV[3] = "") or rescores it, but only if its score is still ARGV[2], so a
 * concurrent writer's newer entry is never lost. KEYS[1]: index; ARGV[1]: member.
 */
const RECONCILE = `
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur or tonumber(cur) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`;

/** A Lua script run with EVALSHA, falling back to EVAL when the server lacks it (NOSCRIPT). */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: Redis | Cluster, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** The store's scripts. */
export const scripts = {
  create: new RedisScript(CREATE),
  append: new RedisScript(APPEND),
  update: new RedisScript(UPDATE),
  delete: new RedisScript(DELETE),
  restoreSession: new RedisScript(RESTORE_SESSION),
  restoreEvents: new RedisScript(RESTORE_EVENTS),
  fork: new RedisScript(FORK),
  app: new RedisScript(APP),
  forget: new RedisScript(FORGET),
  reconcile: new RedisScript(RECONCILE),
};
