import { invalidArgument } from "../../core/errors.js";
import { encodedStoredEvent, tailBytes } from "../../core/event-data.js";
import type { EventActions, JsonObject, SessionRecord, SessionStatus, StoredEvent } from "../../core/types.js";
import type { Row } from "./driver.js";

/** Unquoted names of the tables, with the configured prefix. */
export interface TableNames {
  sessions: string;
  events: string;
  appStates: string;
  userStates: string;
  migrations: string;
}

const PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/**
 * Table names for a prefix. The prefix is validated as an identifier here,
 * so dialects may interpolate the names into SQL.
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

/** Event columns in the order {@link eventValues} returns values (after session_pk). */
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
  "encoded",
] as const;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) for microseconds since the epoch: times
 * cross the wire as text so that no JavaScript Date (milliseconds) sits in between.
 */
export function utcDatetime(us: number): string {
  const seconds = Math.floor(us / 1e6);
  const micros = Math.min(999_999, Math.max(0, Math.trunc(us - seconds * 1e6)));
  const d = new Date(seconds * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}`
  );
}

/** JSON text of a value (given as `text` where it is known), or null. */
export function jsonText(value: unknown, text?: string): string | null {
  if (text !== undefined) return text;
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * A JSON column's value as `json` makes it, given the value's JSON text
 * where that is known.
 */
function jsonColumn(event: StoredEvent, key: "content" | "actions" | "metadata", json: JsonColumn): unknown {
  return json(event[key], event.json?.[key]);
}

/** Makes a JSON column's value from the value or, where known, its JSON text. */
export type JsonColumn = (value: JsonObject | EventActions | string[] | null, text?: string) => unknown;

/** A JSON column's value, whether the driver returned text or parsed it already. */
export function parseJson<T = JsonObject>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return JSON.parse(value) as T;
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString("utf8")) as T;
  return value as T;
}

/**
 * Column values of an event in {@link EVENT_COLUMNS} order: JSON as text,
 * flags as 1/0, the time converted by `time`, the encoded tail as a Buffer
 * or as `bytes` makes it, JSON values (objects, arrays or null) as `json` makes them.
 */
export function eventValues(
  event: StoredEvent,
  time: (us: number) => unknown,
  bytes: (b: Buffer) => unknown = (b) => b,
  json: JsonColumn = jsonText,
): unknown[] {
  const tail = event.encodedTail && tailBytes(event.encodedTail);
  return [
    event.sequence,
    event.id,
    event.invocationId,
    event.agentId,
    event.author,
    event.branch,
    time(event.timestampUs),
    jsonColumn(event, "content", json),
    jsonColumn(event, "actions", json),
    jsonColumn(event, "metadata", json),
    event.turnComplete ? 1 : 0,
    event.errorCode,
    event.errorMessage,
    event.longRunningToolIds.length > 0 ? json(event.longRunningToolIds) : null,
    event.interrupted ? 1 : 0,
    tail ? bytes(Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength)) : null,
  ];
}

/**
 * Decodes an events row whose timestamp was selected as integer
 * microseconds. A row read with its encoded tail has only its sequence and
 * id besides (see EventPageQuery.encoded).
 */
export function eventFromRow(row: Row): StoredEvent {
  // A base64 tail stays text: the encoder decodes it straight into the response.
  if (row.encoded) return encodedStoredEvent(Number(row.sequence), row.id as string, row.encoded as Uint8Array | string);
  return {
    sequence: Number(row.sequence),
    id: row.id as string,
    invocationId: row.invocation_id as string,
    agentId: row.agent_id as string,
    author: row.author as string,
    branch: row.branch as string,
    timestampUs: Number(row.timestamp),
    content: parseJson(row.content),
    actions: parseJson<EventActions>(row.actions),
    metadata: parseJson(row.metadata),
    turnComplete: Boolean(Number(row.turn_complete)),
    errorCode: row.error_code as string,
    errorMessage: row.error_message as string,
    longRunningToolIds: parseJson<string[]>(row.long_running_tool_ids) ?? [],
    interrupted: Boolean(Number(row.interrupted)),
  };
}

/** Decodes a sessions row whose times were selected as integer microseconds. */
export function sessionFromRow(row: Row): SessionRecord {
  return {
    appName: row.app_name as string,
    userId: row.user_id as string,
    id: row.id as string,
    agentId: row.agent_id as string,
    status: row.status as SessionStatus,
    state: parseJson(row.state) ?? {},
    metadata: parseJson(row.metadata) ?? {},
    createTimeUs: Number(row.created_at),
    updateTimeUs: Number(row.updated_at),
    lastSequence: Number(row.last_sequence),
    ...(row.forked_from_session_id === null || row.forked_from_session_id === undefined
      ? {}
      : {
          forkedFrom: {
            sessionId: String(row.forked_from_session_id),
            userId: String(row.forked_from_user_id),
            sequence: Number(row.forked_from_sequence),
          },
        }),
  };
}

/**
 * " AND "-joined `?`-placeholder clauses for the pairs whose value is set,
 * with their arguments in order.
 */
export function conditions(pairs: readonly (readonly [string, unknown])[]): { clauses: string; args: unknown[] } {
  const set = pairs.filter((p) => p[1] !== undefined);
  return { clauses: set.map(([clause]) => ` AND ${clause}`).join(""), args: set.map(([, value]) => value) };
}
