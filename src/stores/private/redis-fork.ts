import { randomUUID } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { sessionExists, sessionNotFound } from "../../core/errors.js";
import type { ForkPlan } from "../../core/types.js";
import { eventValue, statePairs } from "./redis-codec.js";
import { EVENT_CHUNK, readEventRange } from "./redis-index.js";
import { type RedisKeys, sessionKeyList } from "./redis-keys.js";
import { scripts } from "./redis-scripts.js";

/** Staged keys left behind by a crashed fork expire after this long. */
const STAGE_TTL_SECONDS = 24 * 3600;

/**
 * Copies a fork's events chunk by chunk into staging keys in the target's
 * slot (the target may be another user, hence another slot), renumbered
 * 1..N, then one script moves them into place and writes the record. The
 * copied events are immutable while the source exists, and a chunk that
 * comes back short means the source was deleted meanwhile. Returns false
 * when the target was taken.
 */
export async function forkInto(client: Redis | Cluster, keys: RedisKeys, plan: ForkPlan, ttl: string): Promise<boolean> {
  const source = keys.session(plan.source);
  const target = keys.session(plan.target);
  const last = await client.hget(source.record, "last");
  if (last === null || Number(last) < plan.throughSequence) throw sessionNotFound(plan.source);
  if ((await client.exists(target.record)) === 1) throw sessionExists(plan.target);
  const stage = `${target.record}:fork:${randomUUID()}`;
  const stageEvents = `${stage}:ev`;
  const stageIds = `${stage}:id`;
  let sequence = 0;
  try {
    for (const range of plan.ranges) {
      for (let from = range.first; from <= range.last; from += EVENT_CHUNK) {
        const to = Math.min(range.last, from + EVENT_CHUNK - 1);
        const events = await readEventRange(client, source.events, from, to);
        if (events.length !== to - from + 1) throw sessionNotFound(plan.source);
        const tx = client.multi();
        for (const event of events) {
          sequence++;
          tx.hset(stageEvents, String(sequence), eventValue(event));
          tx.hset(stageIds, event.id, `${sequence}:${event.timestampUs}`);
        }
        tx.expire(stageEvents, STAGE_TTL_SECONDS).expire(stageIds, STAGE_TTL_SECONDS);
        const results = (await tx.exec()) ?? [];
        for (const [error] of results) if (error) throw error;
      }
    }
  } catch (error) {
    await client.del(stageEvents, stageIds).catch(() => {});
    throw error;
  }
  const header = {
    sid: plan.target.sessionId,
    agent: plan.agentId,
    meta: JSON.stringify(plan.metadata),
    now: String(plan.nowUs),
    ttl,
    last: String(sequence),
    init: plan.initialState === null ? "" : JSON.stringify(plan.initialState),
    ff: JSON.stringify(plan.forkedFrom),
  };
  const done = await scripts.fork.run(client, [...sessionKeyList(target), stageEvents, stageIds], [header, ...statePairs(plan.state)]);
  return done === 1;
}
