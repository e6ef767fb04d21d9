import type { SessiondError } from "../../core/errors.js";
import type { AppendBatch, AppendOutcome, SessionKey } from "../../core/types.js";
import type { SqlTx } from "./driver.js";

/** Table names as they appear in SQL text (quoted, schema-qualified where the dialect needs it). */
export type SqlTables = Record<"sessions" | "events" | "appStates" | "userStates" | "migrations", string>;

/** A numbered schema change: statements applied once, in order, then recorded in the migrations table. */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The schema of a dialect and how it reports a missing or outdated one. */
export interface SqlSchema {
  /** CREATE TABLE IF NOT EXISTS of the migrations table (version, name, applied_at). */
  migrationsTable: string;
  migrations: Migration[];
  /** The applied_at value of a migration recorded now. */
  appliedAt(): unknown;
  /** not_found for a store opened with mustExist that holds no tables. */
  missing(): Promise<SessiondError>;
  /** unavailable for a schema older than this version, with auto-migration off. */
  outdated(current: number, latest: number): SessiondError;
  /** Whether an error says the migrations table does not exist. */
  isMissingTable(error: unknown): boolean;
}

/**
 * What differs between SQL databases, for the statements in statements.ts.
 * Every statement is written once with `?` placeholders (PostgreSQL's
 * driver numbers them); times are integer microseconds in the store and
 * are converted at the boundary; JSON travels as text.
 *
 * The optional hooks are the measured hot paths a dialect does its own way.
 */
export interface SqlDialect {
  /** The store's kind, e.g. "sqlite". */
  readonly name: string;
  readonly tables: SqlTables;
  readonly schema: SqlSchema;
  /** An identifier quoted for this dialect (column names that are keywords). */
  quote(identifier: string): string;
  /** The parameter value of a time column for microseconds since the epoch. */
  time(us: number): unknown;
  /** SQL reading a time column as integer microseconds since the epoch. */
  timeOf(column: string): string;
  /** " FOR UPDATE" where row locks serialize writers; "" where the transaction itself does (SQLite). */
  readonly forUpdate: string;
  /** The two-argument maximum: MAX on SQLite, GREATEST elsewhere. */
  readonly greatest: string;
  /** SQL for a JSON object column's member `key` (a literal identifier), NULL when absent. */
  jsonField(column: string, key: string): string;
  /** Whether row-value comparisons are used as such; otherwise they are expanded (see {@link keyset}). */
  readonly rowValues: boolean;
  /**
   * The clause making an INSERT into `table` an upsert on `keys`: it
   * replaces `columns` and keeps the larger of the stored and new `larger`.
   */
  upsert(table: string, keys: string[], columns: string[], larger?: string): string;
  /** The clause making an INSERT skip a row whose key is stored (`column` is any column of the table). */
  insertIgnore(column: string): string;
  /** Whether an error is a unique-key violation. */
  isDuplicate(error: unknown): boolean;

  /** Hook: events per read of a long replay (see Store.streamPageSize); measured per dialect. */
  readonly streamPageSize?: number;
  /** Hook: SQL reading the encoded tail column, when the dialect reads it faster as base64 text than as binary. */
  encodedAsBase64?(column: string): string;
  /** Hook: look up each id of a batch with its own index probe instead of one IN (…) query. */
  readonly lookupEachId?: boolean;
  /** Hook: rows per multi-row INSERT of events; without it each event is its own INSERT. */
  eventChunks?(rows: unknown[][]): unknown[][][];
  /** Hook: statements starting a read transaction for an unfiltered page of events in sequence order. */
  readonly orderedScan?: string[];
  /** Hook: an append that may finish the common case faster; undefined leaves the batch to the store. */
  append?(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome | undefined>;
  /** Hook: tells followers in other processes that these sessions changed, inside the writing transaction. */
  notify?(tx: SqlTx, keys: SessionKey[]): Promise<void>;
}

/**
 * `columns` compared with `values` as a row, by `op`: a row value where the
 * dialect uses its index for one, otherwise the expanded form
 * `a > ? OR (a = ? AND (b > ? OR …))`, which MySQL and MariaDB do.
 */
export function keyset(d: SqlDialect, columns: string[], op: "<" | ">", values: unknown[]): { sql: string; args: unknown[] } {
  if (d.rowValues) return { sql: `(${columns.join(", ")}) ${op} (${columns.map(() => "?").join(", ")})`, args: values };
  const [column, ...rest] = columns;
  const [value, ...more] = values;
  if (rest.length === 0) return { sql: `${column} ${op} ?`, args: [value] };
  const inner = keyset(d, rest, op, more);
  return { sql: `${column} ${op} ? OR (${column} = ? AND (${inner.sql}))`, args: [value, value, ...inner.args] };
}

/** The upsert clause of SQLite and PostgreSQL (see {@link SqlDialect.upsert}). */
export function onConflictUpdate(greatest: string, table: string, keys: string[], columns: string[], larger?: string): string {
  const sets = columns.map((c) => `${c} = excluded.${c}`);
  if (larger) sets.push(`${larger} = ${greatest}(${table}.${larger}, excluded.${larger})`);
  return ` ON CONFLICT (${keys.join(", ")}) DO UPDATE SET ${sets.join(", ")}`;
}

/** `n` comma-separated placeholders. */
export function marks(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}
