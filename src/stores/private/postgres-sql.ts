import type { PendingQuery, ReservedSql, Row, RowList } from "postgres";
import { SessiondError } from "../../core/errors.js";
import type { EventFilter, JsonObject, JsonValue, StoredEvent } from "../../core/types.js";
import { currentCallDeadline } from "../call-deadline.js";
import { classifyPostgresError } from "./postgres-errors.js";
import { callBudgetMs, deadlineExceeded, EVENT_COLUMNS, eventRow } from "./sql.js";

/**
 * SQL fragments of the PostgreSQL store. Times cross the driver as integer
 * microseconds and are converted by exact SQL (numeric extract, interval
 * arithmetic) so TIMESTAMPTZ values keep their microseconds; JavaScript
 * Dates would cut them to milliseconds.
 */

type Conn = ReservedSql;
type Fragment = PendingQuery<Row[]>;

/** A TIMESTAMPTZ from integer microseconds since the epoch. */
export function timestamp(c: Conn, us: number): Fragment {
  return c`(timestamptz 'epoch' + ${us}::int8 * interval '1 microsecond')`;
}

/** SQL text turning a TIMESTAMPTZ column into integer microseconds. */
function microseconds(column: string): string {
  return `(extract(epoch from ${column}) * 1000000)::int8`;
}

/** The session columns as {@link SessionRow} expects them, times in microseconds. */
export function sessionColumns(c: Conn, alias = ""): Fragment {
  const a = alias === "" ? "" : `${alias}.`;
  return c.unsafe(
    `${a}pk, ${a}app_name, ${a}user_id, ${a}id, ${a}agent_id, ${a}status, ${a}state, ${a}metadata,
     ${microseconds(`${a}created_at`)} AS created_at, ${microseconds(`${a}updated_at`)} AS updated_at, ${a}last_sequence`,
  ) as Fragment;
}

const SELECT_EVENT = EVENT_COLUMNS.map((name) => (name === "timestamp" ? `${microseconds('"timestamp"')} AS "timestamp"` : `"${name}"`)).join(", ");
const INSERT_EVENT = EVENT_COLUMNS.map((name) => `"${name}"`).join(", ");

/** Event columns for a SELECT (times in microseconds) or the column list of an INSERT. */
export function eventColumns(c: Conn, use: "select" | "insert" = "select"): Fragment {
  return c.unsafe(use === "select" ? SELECT_EVENT : INSERT_EVENT) as Fragment;
}

const CASTS: Record<(typeof EVENT_COLUMNS)[number], (value: string) => string> = {
  sequence: (v) => `(${v})::int8`,
  id: (v) => v,
  invocation_id: (v) => v,
  agent_id: (v) => v,
  author: (v) => v,
  branch: (v) => v,
  timestamp: (v) => `(timestamptz 'epoch' + (${v})::int8 * interval '1 microsecond')`,
  content: (v) => `(${v})::jsonb`,
  actions: (v) => `(${v})::jsonb`,
  metadata: (v) => `(${v})::jsonb`,
  turn_complete: (v) => `(${v})::boolean`,
  error_code: (v) => v,
  error_message: (v) => v,
  long_running_tool_ids: (v) => `(${v})::jsonb`,
  interrupted: (v) => `(${v})::boolean`,
};
const EVENT_RECORD = EVENT_COLUMNS.map((name, i) => CASTS[name](`r->>${i}`)).join(", ");
// The same with each record's sequence taken as an offset from the column `ok.last_sequence`.
const OFFSET_RECORD = EVENT_COLUMNS.map((name, i) => (name === "sequence" ? `ok.last_sequence + (r->>${i})::int8` : CASTS[name](`r->>${i}`))).join(", ");

/**
 * The INSERT's SELECT list over `jsonb_array_elements(...) AS r`, where each
 * element is an {@link eventRecord}: all rows of a batch travel as one
 * parameter and are inserted by one statement. With `offset`, the records'
 * sequences count from the `last_sequence` column of a relation named `ok`.
 */
export function eventRecords(c: Conn, use: "absolute" | "offset" = "absolute"): Fragment {
  return c.unsafe(use === "absolute" ? EVENT_RECORD : OFFSET_RECORD) as Fragment;
}

/** One event as a JSON array in {@link EVENT_COLUMNS} order (JSON columns as text, time in microseconds). */
export function eventRecord(event: StoredEvent): JsonValue[] {
  return eventRow(event, (us) => us) as JsonValue[];
}

/** The fragments in order, skipping the unset ones (`false`): for optional "AND ..." conditions. */
export function join(c: Conn, parts: (Fragment | false)[]): Fragment {
  return parts.reduce<Fragment>((all, part) => (part ? c`${all} ${part}` : all), c``);
}

/** " AND ..." conditions for an event filter. */
export function eventFilter(c: Conn, filter: EventFilter): Fragment {
  return join(c, [
    filter.invocationId !== undefined && c`AND invocation_id = ${filter.invocationId}`,
    filter.agentId !== undefined && c`AND agent_id = ${filter.agentId}`,
    filter.author !== undefined && c`AND author = ${filter.author}`,
    filter.branch !== undefined && c`AND branch = ${filter.branch}`,
    filter.startTimeUs !== undefined && c`AND "timestamp" >= ${timestamp(c, filter.startTimeUs)}`,
    filter.endTimeUs !== undefined && c`AND "timestamp" < ${timestamp(c, filter.endTimeUs)}`,
  ]);
}

/**
 * Applies a delta to an app_states (one key column) or user_states (two)
 * row atomically: an upsert merging the delta into the stored object and
 * dropping the keys it sets to null, like `applyDelta`. The row lock taken
 * by ON CONFLICT DO UPDATE serializes concurrent writers. With `gate` (a CTE
 * name), it applies only when that CTE has a row.
 */
export function sharedUpsert(
  c: Conn,
  table: Fragment,
  keys: [string] | [string, string],
  delta: JsonObject,
  nowUs: number,
  gate?: Fragment,
): Fragment {
  const nulls = Object.keys(delta).filter((key) => delta[key] === null);
  const json = c.json(delta);
  const now = timestamp(c, nowUs);
  // With a gate (a relation), one row per gate row: none when the gate is empty. WHERE true
  // keeps ON CONFLICT from being read as a join condition.
  const row = (values: Fragment) => (gate ? c`SELECT ${values} FROM ${gate} WHERE true` : c`VALUES (${values})`);
  return keys.length === 1
    ? c`INSERT INTO ${table} AS t (app_name, state, updated_at) ${row(c`${keys[0]}, ${json}::jsonb - ${nulls}::text[], ${now}`)}
        ON CONFLICT (app_name) DO UPDATE SET state = (t.state || ${json}::jsonb) - ${nulls}::text[], updated_at = excluded.updated_at`
    : c`INSERT INTO ${table} AS t (app_name, user_id, state, updated_at) ${row(c`${keys[0]}, ${keys[1]}, ${json}::jsonb - ${nulls}::text[], ${now}`)}
        ON CONFLICT (app_name, user_id) DO UPDATE SET state = (t.state || ${json}::jsonb) - ${nulls}::text[], updated_at = excluded.updated_at`;
}

/**
 * Sends statements back to back on one connection and waits for all: one
 * round trip. Returns their results; throws the first error that is not
 * merely the consequence of an earlier one (inside a transaction, a failed
 * statement makes the later ones fail and turns COMMIT into a rollback).
 */
export async function pipeline(c: Conn, statements: Fragment[]): Promise<RowList<Row[]>[]> {
  const results = await Promise.allSettled(statements);
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as { code?: string }] : []));
  if (failures.length > 0) throw failures.find((e) => e.code !== "25P02") ?? failures[0];
  return results.map((r) => (r as PromiseFulfilledResult<RowList<Row[]>>).value);
}

/** BEGIN (with a transaction mode), the statements and COMMIT as one pipeline; returns the statements' results. */
export async function transaction(c: Conn, statements: Fragment[], mode = ""): Promise<RowList<Row[]>[]> {
  const results = await pipeline(c, [begin(c, mode), ...statements, ...commit(c)]);
  return results.slice(1, 1 + statements.length);
}

/**
 * BEGIN, for pipelines that keep the transaction open. Under a call deadline
 * the transaction's statements and lock waits are bounded by the time left
 * (SET LOCAL, sent in the same simple query, so it costs no round trip).
 */
export function begin(c: Conn, mode = ""): Fragment {
  const budget = callBudgetMs();
  const bound = budget === undefined ? "" : `; SET LOCAL statement_timeout = ${budget}; SET LOCAL lock_timeout = ${budget}`;
  return c.unsafe(`BEGIN ${mode}${bound}`) as Fragment;
}

/**
 * COMMIT, for pipelines that end a transaction. Under a call deadline it is
 * preceded by a guard that fails when the deadline has passed by the time
 * the server gets there, which turns the COMMIT into a rollback: a write
 * that ran past its deadline is not committed, still in one round trip.
 */
export function commit(c: Conn): Fragment[] {
  const deadline = currentCallDeadline()?.deadlineMs;
  if (deadline === undefined) return [c.unsafe("COMMIT") as Fragment];
  return [
    c`SELECT (CASE WHEN clock_timestamp() > to_timestamp(${deadline}::float8 / 1000) THEN ${DEADLINE_GUARD} ELSE '0' END)::int`,
    c.unsafe("COMMIT") as Fragment,
  ];
}

const DEADLINE_GUARD = "deadline passed before commit";

/** The store's tables as SQL fragments. */
export type TableFragments = Record<"sessions" | "events" | "appStates" | "userStates", Fragment>;

/** app_state and user_state columns for a sessions row aliased `alias`. */
export function stateColumns(c: Conn, t: TableFragments, alias: string): Fragment {
  const s = c.unsafe(alias) as Fragment;
  return c`(SELECT state FROM ${t.appStates} WHERE app_name = ${s}.app_name) AS app_state,
    (SELECT state FROM ${t.userStates} WHERE app_name = ${s}.app_name AND user_id = ${s}.user_id) AS user_state`;
}

/** One row with the app's state and the user's state (null when missing). */
export function sharedState(c: Conn, t: TableFragments, appName: string, userId: string): Fragment {
  return c`SELECT (SELECT state FROM ${t.appStates} WHERE app_name = ${appName}) AS app_state,
    (SELECT state FROM ${t.userStates} WHERE app_name = ${appName} AND user_id = ${userId}) AS user_state`;
}

/**
 * Maps driver errors a client can act on to domain errors (see
 * {@link classifyPostgresError}); anything else is returned unchanged.
 * `detail` adds the driver's message to unavailability, for the operator
 * starting the server (clients only get the error code).
 */
export function postgresError(error: unknown, options: { detail?: boolean } = {}): unknown {
  if (error instanceof SessiondError || typeof error !== "object" || error === null) return error;
  const code = String((error as { code?: unknown }).code ?? "");
  // Statement and lock timeouts are set from the call's deadline (see PostgresStore.use), and the
  // commit guard fails with its own text; either way the transaction was rolled back.
  const guard = code === "22P02" && error instanceof Error && error.message.includes(DEADLINE_GUARD);
  if (guard || ((code === "57014" || code === "55P03") && currentCallDeadline()?.deadlineMs !== undefined)) return deadlineExceeded();
  const classified = classifyPostgresError(error);
  if (!classified) return error;
  if (options.detail && classified.kind === "unavailable" && error instanceof Error && error !== classified) {
    return new SessiondError("unavailable", `${classified.message}: ${error.message}`, { cause: error });
  }
  return classified;
}
