import type { PendingQuery, ReservedSql, Row } from "postgres";
import { planAppend } from "../../core/append.js";
import { sessionNotFound } from "../../core/errors.js";
import type { AppendBatch, AppendOutcome, JsonObject, SessionKey } from "../../core/types.js";
import type { SqlTables } from "../sql/dialect.js";
import { EVENT_COLUMNS, eventValues } from "../sql/rows.js";
import { begin, commit, pipeline } from "./postgres-driver.js";
import { sessionTopic } from "./postgres-notify.js";

type Fragment = PendingQuery<Row[]>;

// Record element i as a column value: `r->>i` is its text, `r->i` its JSON.
const COLUMN_OF_RECORD: Partial<Record<(typeof EVENT_COLUMNS)[number], (i: number) => string>> = {
  // Each record's sequence is an offset from the column `ok.last_sequence`.
  sequence: (i) => `ok.last_sequence + (r->>${i})::int8`,
  timestamp: (i) => `(timestamptz 'epoch' + (r->>${i})::int8 * interval '1 microsecond')`,
  // JSON values travel as JSON inside the records, so that they are encoded and parsed once; an absent one is null.
  content: (i) => `nullif(r->${i}, 'null')`,
  actions: (i) => `nullif(r->${i}, 'null')`,
  metadata: (i) => `nullif(r->${i}, 'null')`,
  turn_complete: (i) => `(r->>${i})::boolean`,
  long_running_tool_ids: (i) => `nullif(r->${i}, 'null')`,
  interrupted: (i) => `(r->>${i})::boolean`,
  encoded: (i) => `decode(r->>${i}, 'base64')`,
};
const INSERT_COLUMNS = EVENT_COLUMNS.map((name) => `"${name}"`).join(", ");
const OFFSET_RECORD = EVENT_COLUMNS.map((name, i) => COLUMN_OF_RECORD[name]?.(i) ?? `r->>${i}`).join(", ");

/** How many sessions' primary keys an appender remembers (the least recently appended to are forgotten first). */
const KNOWN_SESSIONS = 10_000;

/**
 * The common PostgreSQL append in one round trip and one statement (the
 * generic append takes five or more): it locks the session and writes the
 * batch when expected_last_sequence (if set) matches, numbering the events
 * after the locked last_sequence, and merges the state deltas in SQL (jsonb
 * `||`, then `-` the keys set to null: the rule of applyDelta). `append`
 * returns undefined when it wrote nothing: the expected sequence did not
 * match, or one of the ids is stored already, which the unique index on
 * (session_pk, id) reports and the statement's rollback undoes (a retried
 * batch, or one racing another with the same ids); the generic append then
 * decides. Looking the ids up first instead cost every append its planning
 * and probes, for the rare retry.
 *
 * A session appended to before is found by its primary key, remembered
 * from the last append, and its key compared in the locked row; that
 * statement is planned once per connection (see {@link BY_PRIMARY_KEY}).
 * A remembered key that no longer matches (the session was deleted, or
 * deleted and created again) sends the append on by session key.
 */
export class PostgresAppend {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly tables: SqlTables,
    private readonly channel: string,
  ) {}

  async append(c: ReservedSql, key: SessionKey, batch: AppendBatch): Promise<AppendOutcome | undefined> {
    // An empty batch writes nothing, not even updated_at.
    if (batch.events.length === 0) return undefined;
    // Numbered from 0: the statement adds the locked last_sequence, and so does write() to the assignments.
    const draft = planAppend({ ...batch, expectedLastSequence: undefined }, 0, new Map());
    // Base64 needs no escaping in JSON, so the encoded tails go in quoted as they are.
    const records = draft.inserts.map((event) =>
      eventValues(event, (us) => us, (b) => new KnownJson(`"${b.toString("base64")}"`), (value, text) => (text === undefined ? value : new KnownJson(text))),
    );
    // The notification topic, a hash of the key, also names the session here: a collision only sends the append on by key.
    const write = { key, batch, draft, records: recordsJson(records), topic: sessionTopic(key) };
    const pk = this.known.get(write.topic);
    this.known.delete(write.topic);
    const located = (pk !== undefined && (await this.write(c, write, pk))) || (await this.write(c, write, undefined));
    if (located === false) throw sessionNotFound(key);
    if (located.pk !== undefined) {
      if (this.known.size >= KNOWN_SESSIONS) this.known.delete(this.known.keys().next().value!);
      this.known.set(write.topic, located.pk);
    }
    return located.outcome;
  }

  /** The append with the session found by `pk` (planned once) or by its key (per call); false when it is not there. */
  private async write(c: ReservedSql, { key, batch, draft, records, topic }: Write, pk: string | undefined): Promise<false | { pk?: string; outcome: AppendOutcome | undefined }> {
    const { app, user, session: own } = draft.delta;
    const t = (name: keyof SqlTables) => c.unsafe(this.tables[name]) as Fragment;
    const ok = c`ok`;
    const expected = batch.expectedLastSequence ?? null;
    const state = own ? c`, state = (state || ${c.json(own)}::jsonb) - ${nullKeys(own)}::text[]` : c``;
    // By primary key, the key columns are compared in the select list, where no index can be chosen for them.
    const locate =
      pk === undefined
        ? c`SELECT pk, last_sequence, true AS same FROM ${t("sessions")}
            WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId} FOR UPDATE`
        : c`SELECT pk, last_sequence, (app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}) AS same
            FROM ${t("sessions")} WHERE pk = ${pk}::int8 FOR UPDATE`;
    const statement = c`
      WITH s AS (${locate}), ok AS (
        SELECT pk, last_sequence FROM s WHERE same AND (${expected}::int8 IS NULL OR last_sequence = ${expected}::int8)
      ), inserted AS (
        INSERT INTO ${t("events")} (session_pk, ${c.unsafe(INSERT_COLUMNS)})
        SELECT ok.pk, ${c.unsafe(OFFSET_RECORD)} FROM ok, jsonb_array_elements(${c.json(records)}) AS r
      ), updated AS (
        UPDATE ${t("sessions")} AS u SET last_sequence = ok.last_sequence + ${draft.inserts.length}::int8,
          updated_at = ${timestamp(c, draft.updateTimeUs)} ${state}
        FROM ok WHERE u.pk = ok.pk RETURNING 1
      )
      ${app ? c`, app AS (${sharedUpsert(c, t("appStates"), [key.appName], app, batch.nowUs, ok)})` : c``}
      ${user ? c`, usr AS (${sharedUpsert(c, t("userStates"), [key.appName, key.userId], user, batch.nowUs, ok)})` : c``}
      SELECT s.pk::text AS pk, s.same, s.last_sequence, (SELECT count(*) FROM updated)::int AS applied,
        (SELECT pg_notify(${this.channel}, ${topic}) FROM ok) AS notified
      FROM s`;
    let rows: Row[];
    try {
      rows = (await pipeline(c, [begin(c, "", pk === undefined ? [] : BY_PRIMARY_KEY), statement, ...commit(c)]))[1]!;
    } catch (error) {
      if ((error as { code?: string }).code === "23505") return { pk, outcome: undefined };
      throw error;
    }
    const row = rows[0];
    if (!row?.same) return false;
    if (row.applied === 0) return { pk: row.pk as string, outcome: undefined };
    // The draft's assignments shifted by the locked last_sequence are planAppend's for it (the tests compare the two).
    const base = Number(row.last_sequence);
    for (const assigned of draft.outcome.events) assigned.sequence += base;
    return { pk: row.pk as string, outcome: { events: draft.outcome.events, lastSequence: base + draft.outcome.lastSequence } };
  }
}

/**
 * Settings of the append by primary key: planned once per connection, not
 * per call as the store's other statements are (force_custom_plan), which
 * took 0.3 ms of the 0.8 ms PostgreSQL spent on a one-event append. A kept
 * plan is safe for it because every table it reads is looked up by primary
 * key (the session, the row to update, the foreign key check of each
 * event), and without sequential scans that has one plan, whatever the
 * statistics. By session key it is not: with the statistics of a table of
 * one session, every index starting with app_name ties with the unique
 * key, and a kept plan could go on scanning all of an app's sessions.
 */
const BY_PRIMARY_KEY = ["SET LOCAL plan_cache_mode = force_generic_plan", "SET LOCAL enable_seqscan = off"];

/** One append, prepared once for either way of finding its session. */
interface Write {
  key: SessionKey;
  batch: AppendBatch;
  draft: ReturnType<typeof planAppend>;
  /** The events' column values as one JSON array. */
  records: string;
  topic: string;
}

/** A JSON value given as its text. */
export class KnownJson {
  constructor(readonly text: string) {}
}

/** The records as one JSON array, with the values known as text written verbatim. */
export function recordsJson(records: unknown[][]): string {
  let text = "[";
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    text += i === 0 ? "[" : ",[";
    for (let j = 0; j < record.length; j++) {
      const json = valueJson(record[j]);
      text += j === 0 ? json : `,${json}`;
    }
    text += "]";
  }
  return `${text}]`;
}

/** A column value's JSON. Numbers and texts known as JSON skip JSON.stringify: a batch's records are a sizable part of its append's CPU. */
function valueJson(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "string":
      return value === "" ? '""' : JSON.stringify(value);
    case "object":
      return value === null ? "null" : value instanceof KnownJson ? value.text : JSON.stringify(value);
    default:
      return JSON.stringify(value) ?? "null";
  }
}

/** A TIMESTAMPTZ from integer microseconds since the epoch. */
function timestamp(c: ReservedSql, us: number): Fragment {
  return c`(timestamptz 'epoch' + ${us}::int8 * interval '1 microsecond')`;
}

/**
 * Applies a delta to an app_states (one key column) or user_states (two)
 * row atomically, one row per row of `gate` (none when it is empty): an
 * upsert merging the delta into the stored object and dropping the keys it
 * sets to null. The row lock taken by ON CONFLICT DO UPDATE serializes
 * concurrent writers.
 */
function sharedUpsert(c: ReservedSql, table: Fragment, keys: [string] | [string, string], delta: JsonObject, nowUs: number, gate: Fragment): Fragment {
  const nulls = nullKeys(delta);
  const json = c.json(delta);
  const now = timestamp(c, nowUs);
  const columns = keys.length === 1 ? c`app_name` : c`app_name, user_id`;
  const values = keys.length === 1 ? c`${keys[0]}` : c`${keys[0]}, ${keys[1]}`;
  // WHERE true keeps ON CONFLICT from being read as a join condition.
  return c`INSERT INTO ${table} AS t (${columns}, state, updated_at) SELECT ${values}, ${json}::jsonb - ${nulls}::text[], ${now} FROM ${gate} WHERE true
    ON CONFLICT (${columns}) DO UPDATE SET state = (t.state || ${json}::jsonb) - ${nulls}::text[], updated_at = excluded.updated_at`;
}

/** Keys a delta sets to null, which the JSONB merge removes. */
function nullKeys(delta: JsonObject): string[] {
  return Object.keys(delta).filter((key) => delta[key] === null);
}
