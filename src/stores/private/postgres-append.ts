import type { ReservedSql, Row } from "postgres";
import { planAppend } from "../../core/append.js";
import { sessionNotFound } from "../../core/errors.js";
import type { AppendBatch, AppendOutcome, AssignedEvent, JsonObject, SessionKey } from "../../core/types.js";
import { sessionTopic } from "./postgres-notify.js";
import {
  begin,
  commit,
  eventColumns,
  eventRecord,
  eventRecords,
  pipeline,
  sharedUpsert,
  type TableFragments,
  timestamp,
} from "./postgres-sql.js";

// The PostgreSQL append. Both paths run on the store's transaction
// connection and notify `channel` on commit; appendFresh is tried first,
// appendPlanned decides whatever it leaves.

type Conn = ReservedSql;

/**
 * The common append in one round trip and one statement: it locks the
 * session and writes the batch only when none of its ids is stored and
 * expected_last_sequence (if set) matches, numbering the events after the
 * locked last_sequence. Returns undefined when it wrote nothing for those
 * reasons, or when a concurrent append committed one of the ids while this
 * one waited for the lock (the statement's snapshot predates it, so the
 * unique index reports it); {@link appendPlanned} then decides.
 */
export async function appendFresh(
  c: Conn,
  t: TableFragments,
  channel: string,
  key: SessionKey,
  batch: AppendBatch,
): Promise<AppendOutcome | undefined> {
  // An empty batch writes nothing, not even updated_at.
  if (batch.events.length === 0) return undefined;
  // Numbered from 0: the statement adds the locked last_sequence, and planAppend below gives the same result.
  const draft = planAppend({ ...batch, expectedLastSequence: undefined }, 0, new Map());
  const { app, user, session: own } = draft.delta;
  const ok = c`ok`;
  const expected = batch.expectedLastSequence ?? null;
  const state = own ? c`, state = (state || ${c.json(own)}::jsonb) - ${nullKeys(own)}::text[]` : c``;
  const statement = c`
    WITH s AS (
      SELECT pk, last_sequence FROM ${t.sessions}
      WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId} FOR UPDATE
    ), ok AS (
      SELECT pk, last_sequence FROM s
      WHERE (${expected}::int8 IS NULL OR last_sequence = ${expected}::int8)
        -- As in appendPlanned, LIMIT 1 makes this one index probe per id rather than a scan of the session.
        AND NOT EXISTS (SELECT 1 FROM unnest(${draft.inserts.map((e) => e.id)}::text[]) AS wanted (id)
          CROSS JOIN LATERAL (SELECT 1 FROM ${t.events} e WHERE e.session_pk = s.pk AND e.id = wanted.id LIMIT 1) e)
    ), inserted AS (
      INSERT INTO ${t.events} (session_pk, ${eventColumns(c, "insert")})
      SELECT ok.pk, ${eventRecords(c, "offset")} FROM ok, jsonb_array_elements(${c.json(draft.inserts.map(eventRecord))}) AS r
    ), updated AS (
      UPDATE ${t.sessions} AS u SET last_sequence = ok.last_sequence + ${draft.inserts.length}::int8,
        updated_at = ${timestamp(c, draft.updateTimeUs)} ${state}
      FROM ok WHERE u.pk = ok.pk RETURNING 1
    )
    ${app ? c`, app AS (${sharedUpsert(c, t.appStates, [key.appName], app, batch.nowUs, ok)})` : c``}
    ${user ? c`, usr AS (${sharedUpsert(c, t.userStates, [key.appName, key.userId], user, batch.nowUs, ok)})` : c``}
    SELECT s.last_sequence, (SELECT count(*) FROM updated)::int AS applied,
      (SELECT pg_notify(${channel}, ${sessionTopic(key)}) FROM ok) AS notified
    FROM s`;
  let rows: Row[];
  try {
    // Planned for its parameters like every statement here (force_custom_plan): a generic plan made while
    // the events table was small probes it by sequential scan and stays slow as the session grows.
    const results = await pipeline(c, [begin(c), statement, ...commit(c)]);
    rows = results[1]!;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") return undefined;
    throw error;
  }
  const row = rows[0];
  if (!row) throw sessionNotFound(key);
  if (row.applied === 0) return undefined;
  return planAppend(batch, Number(row.last_sequence), new Map()).outcome;
}

/** Any append, in two round trips: lock and look up the batch's ids, then write what {@link planAppend} decides. */
export async function appendPlanned(
  c: Conn,
  t: TableFragments,
  channel: string,
  key: SessionKey,
  batch: AppendBatch,
): Promise<AppendOutcome> {
  const ids = batch.events.map((p) => p.event.id);
  // One round trip: the lock, then (seeing every append committed before it) the batch's stored ids.
  const [, locked, found] = await pipeline(c, [
    begin(c),
    c`SELECT pk, last_sequence FROM ${t.sessions}
      WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId} FOR UPDATE`,
    // LIMIT 1 keeps the lateral from being flattened: one (session_pk, id) index probe per id, whatever the session's size.
    c`SELECT wanted.id, e.sequence, (extract(epoch from e."timestamp") * 1000000)::int8 AS "timestamp"
      FROM unnest(${ids}::text[]) AS wanted (id)
      CROSS JOIN LATERAL (SELECT sequence, "timestamp" FROM ${t.events}
        WHERE session_pk = (SELECT pk FROM ${t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}) AND id = wanted.id LIMIT 1) e`,
  ]);
  const session = locked![0];
  if (!session) throw sessionNotFound(key);
  const stored = new Map<string, AssignedEvent>();
  for (const row of found!) {
    stored.set(row.id, { id: row.id, sequence: Number(row.sequence), timestampUs: Number(row.timestamp) });
  }
  const plan = planAppend(batch, Number(session.last_sequence), stored);
  if (plan.inserts.length === 0) {
    await pipeline(c, commit(c));
    return plan.outcome;
  }
  const pk = session.pk as string;
  const { app, user, session: own } = plan.delta;
  const state = own ? c`, state = (state || ${c.json(own)}::jsonb) - ${nullKeys(own)}::text[]` : c``;
  const writes = [
    c`WITH inserted AS (
        INSERT INTO ${t.events} (session_pk, ${eventColumns(c, "insert")})
        SELECT ${pk}::int8, ${eventRecords(c)} FROM jsonb_array_elements(${c.json(plan.inserts.map(eventRecord))}) AS r
      ), updated AS (
        UPDATE ${t.sessions} SET last_sequence = ${plan.outcome.lastSequence}, updated_at = ${timestamp(c, plan.updateTimeUs)} ${state}
        WHERE pk = ${pk}::int8
      )
      SELECT pg_notify(${channel}, ${sessionTopic(key)})`,
    ...(app ? [sharedUpsert(c, t.appStates, [key.appName], app, batch.nowUs)] : []),
    ...(user ? [sharedUpsert(c, t.userStates, [key.appName, key.userId], user, batch.nowUs)] : []),
    ...commit(c),
  ];
  await pipeline(c, writes);
  return plan.outcome;
}

/** Keys a delta sets to null, which the JSONB merge removes. */
export function nullKeys(delta: JsonObject): string[] {
  return Object.keys(delta).filter((key) => delta[key] === null);
}
