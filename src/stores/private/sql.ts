import { invalidArgument, SessiondError } from "../../core/errors.js";
import { remainingCallMs } from "../call-deadline.js";
import type { EventActions, EventFilter, JsonObject, SessionStatus, StoredEvent } from "../../core/types.js";

/**
 * Pieces shared by the SQL stores: table naming and the mapping between
 * domain events and table rows. Each store converts times and JSON the way
 * its driver wants and hands rows of this shape back and forth.
 */

/** Names of the tables, with the configured prefix. */
export interface TableNames {
  sessions: string;
  events: string;
  appStates: string;
  userStates: string;
  migrations: string;
}

/** A numbered schema change; applied once, in order, recorded in the migrations table. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/**
 * Table names for a prefix. The prefix is validated as an identifier here,
 * so stores may interpolate the names into SQL.
 */
export function tableNames(prefix = ""): TableNames {
  if (prefix !== "" && !PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument("table prefix", "must be a letter or underscore followed by up to 31 letters, digits or underscores");
  }
  return {
    sessions: `${prefix}sessions`,
    events: `${prefix}session_events`,
    appStates: `${prefix}app_states`,
    userStates: `${prefix}user_states`,
    migrations: `${prefix}schema_migrations`,
  };
}

/** Event columns in the order {@link eventRow} returns values (after session_pk). */
export const EVENT_COLUMNS = [
  "sequence",
  "id",
  "invocation_id",
  "agent_id",
  "author",
  "branch",
  "timestamp",
  "content",
  "actions",
  "metadata",
  "turn_complete",
  "error_code",
  "error_message",
  "long_running_tool_ids",
  "interrupted",
] as const;

/** A row read back from the events table, before driver-specific decoding. */
export interface EventRow {
  sequence: number | string | bigint;
  id: string;
  invocation_id: string;
  agent_id: string;
  author: string;
  branch: string;
  timestamp: unknown;
  content: unknown;
  actions: unknown;
  metadata: unknown;
  turn_complete: unknown;
  error_code: string;
  error_message: string;
  long_running_tool_ids: unknown;
  interrupted: unknown;
}

/** JSON text of a value, or null. */
export function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** A JSON column's value, whether the driver returned text or parsed it already. */
export function parseJson<T = JsonObject>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return JSON.parse(value) as T;
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString("utf8")) as T;
  return value as T;
}

/**
 * Column values of an event, in {@link EVENT_COLUMNS} order, with JSON as
 * text, the timestamp converted by `time` and flags by `flag`.
 */
export function eventRow(
  event: StoredEvent,
  time: (us: number) => unknown,
  flag: (value: boolean) => unknown = (value) => value,
): unknown[] {
  return [
    event.sequence,
    event.id,
    event.invocationId,
    event.agentId,
    event.author,
    event.branch,
    time(event.timestampUs),
    jsonText(event.content),
    jsonText(event.actions),
    jsonText(event.metadata),
    flag(event.turnComplete),
    event.errorCode,
    event.errorMessage,
    event.longRunningToolIds.length > 0 ? JSON.stringify(event.longRunningToolIds) : null,
    flag(event.interrupted),
  ];
}

/** Decodes an event row; `timeUs` converts the driver's timestamp value to microseconds. */
export function eventFromRow(row: EventRow, timeUs: (value: unknown) => number): StoredEvent {
  return {
    sequence: Number(row.sequence),
    id: row.id,
    invocationId: row.invocation_id,
    agentId: row.agent_id,
    author: row.author,
    branch: row.branch,
    timestampUs: timeUs(row.timestamp),
    content: parseJson(row.content),
    actions: parseJson<EventActions>(row.actions),
    metadata: parseJson(row.metadata),
    turnComplete: Boolean(Number(row.turn_complete)),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    longRunningToolIds: parseJson<string[]>(row.long_running_tool_ids) ?? [],
    interrupted: Boolean(Number(row.interrupted)),
  };
}

/** A row read back from the sessions table, before driver-specific decoding. */
export interface SessionRow {
  app_name: string;
  user_id: string;
  id: string;
  agent_id: string;
  status: string;
  state: unknown;
  metadata: unknown;
  created_at: unknown;
  updated_at: unknown;
  last_sequence: number | string | bigint;
}

/** Decodes a session row. */
export function sessionFromRow(row: SessionRow, timeUs: (value: unknown) => number) {
  return {
    appName: row.app_name,
    userId: row.user_id,
    id: row.id,
    agentId: row.agent_id,
    status: row.status as SessionStatus,
    state: parseJson(row.state) ?? {},
    metadata: parseJson(row.metadata) ?? {},
    createTimeUs: timeUs(row.created_at),
    updateTimeUs: timeUs(row.updated_at),
    lastSequence: Number(row.last_sequence),
  };
}

/**
 * " AND "-joined `?`-placeholder clauses for the pairs whose value is set,
 * with their arguments in order.
 */
export function conditions<V>(pairs: readonly (readonly [string, V | undefined])[]): { clauses: string; args: V[] } {
  const set = pairs.filter((p): p is readonly [string, V] => p[1] !== undefined);
  return { clauses: set.map(([clause]) => ` AND ${clause}`).join(""), args: set.map(([, value]) => value) };
}

/** The {@link conditions} of an event filter; `time` converts microseconds to the column's parameter. */
export function eventFilterConditions<V>(filter: EventFilter, time: (us: number) => V) {
  const at = (us: number | undefined) => (us === undefined ? undefined : time(us));
  return conditions<string | V>([
    ["invocation_id = ?", filter.invocationId],
    ["agent_id = ?", filter.agentId],
    ["author = ?", filter.author],
    ["branch = ?", filter.branch],
    ["timestamp >= ?", at(filter.startTimeUs)],
    ["timestamp < ?", at(filter.endTimeUs)],
  ]);
}

/**
 * Milliseconds the current store call may still take (its RPC's deadline,
 * see call-deadline.ts), undefined without a deadline. Throws
 * deadline_exceeded once the deadline has passed: SQL stores call it when a
 * transaction starts, to bound its statement and lock timeouts, and again
 * before COMMIT, so a write whose deadline passed is rolled back instead.
 */
export function callBudgetMs(): number | undefined {
  const left = remainingCallMs();
  if (left === 0) throw deadlineExceeded();
  return left;
}

/** The error of a store call stopped by its deadline; whatever it wrote was rolled back. */
export function deadlineExceeded(): SessiondError {
  return new SessiondError("deadline_exceeded", "store: the call's deadline passed before the store finished; nothing was written");
}
