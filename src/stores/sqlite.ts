import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SessiondError } from "../core/errors.js";
import { onConflictUpdate, type SqlDialect } from "./sql/dialect.js";
import { callBudgetMs, deadlineExceeded, runWork, type Row, type SqlDriver, type SqlResult, type SqlTx, type TxMode } from "./sql/driver.js";
import { type TableNames, tableNames } from "./sql/rows.js";
import { encodedTailMigration, initialTables } from "./sql/tables.js";
import { ddl, openSchema, type SqlOpenOptions } from "./sql/schema.js";
import { SqlStore } from "./sql/sql-store.js";
import { StoreUrlOptions } from "./url-options.js";

/** Options of the SQLite store, beside the URL's query string. */
export interface SqliteOptions extends SqlOpenOptions {
  tablePrefix?: string;
  /** "full" (default) survives power loss; "normal" is faster and survives process crashes. */
  synchronous?: "full" | "normal";
}

/** How long a writer waits for another process's write lock when its call has no deadline. */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_BUSY = 5;
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

/**
 * Embedded SQLite through node:sqlite: one file in WAL mode. Calls are
 * synchronous, so the driver runs one transaction at a time in this
 * process; BEGIN IMMEDIATE and busy_timeout serialize writers across
 * processes sharing the file.
 */
export class SqliteStore extends SqlStore {
  /** Opens (creating when missing) the database file at `location`, e.g. `./sessiond.db?synchronous=normal`. */
  static async open(location: string, options: SqliteOptions = {}): Promise<SqliteStore> {
    const at = location.indexOf("?");
    const path = at < 0 ? location : location.slice(0, at);
    // `prefix` is the name older versions read; `table_prefix` is every SQL store's.
    const params = new StoreUrlOptions(at < 0 ? "" : location.slice(at + 1), ["table_prefix", "prefix", "synchronous", "auto_migrate"]);
    const tables = tableNames(params.string("table_prefix") ?? params.string("prefix") ?? options.tablePrefix ?? "");
    const synchronous = params.choice("synchronous", ["full", "normal"]) ?? options.synchronous ?? "full";
    if (path === "") throw new SessiondError("invalid_argument", "store: sqlite URL needs a file path, e.g. sqlite:./sessiond.db");
    if (options.mustExist && (path === ":memory:" || !existsSync(path))) {
      throw new SessiondError("not_found", `store: SQLite database ${JSON.stringify(path)} does not exist`);
    }
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;`);
    const driver = new SqliteDriver(db);
    const dialect = sqliteDialect(tables, path);
    await openSchema(driver, dialect, options, params.boolean("auto_migrate"));
    return new SqliteStore(driver, dialect);
  }
}

/** Runs statements on one node:sqlite connection, one call at a time. */
class SqliteDriver implements SqlDriver {
  private readonly statements = new Map<string, { statement: StatementSync; reads: boolean }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: DatabaseSync) {}

  run(sql: string, args: unknown[] = []): Promise<SqlResult> {
    return this.serial(async () => {
      callBudgetMs();
      return this.execute(sql, args);
    });
  }

  /**
   * A transaction. Reads are one snapshot even with other writer processes.
   * Under a call deadline, a writer's wait for another process's write
   * lock is bounded by the time left (busy_timeout), and the deadline is
   * checked again before COMMIT: a write that ran past it is rolled back.
   */
  transaction<T>(mode: TxMode, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const budget = callBudgetMs();
      const run = async (sql: string, args: unknown[]) => this.execute(sql, args);
      if (mode === "read") {
        this.db.exec("BEGIN");
        try {
          return await runWork(run, work);
        } finally {
          this.db.exec("COMMIT");
        }
      }
      const wait = budget === undefined ? BUSY_TIMEOUT_MS : Math.min(BUSY_TIMEOUT_MS, budget);
      if (wait !== BUSY_TIMEOUT_MS) this.db.exec(`PRAGMA busy_timeout = ${wait}`);
      try {
        this.db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        throw budget !== undefined && (error as { errcode?: number }).errcode === SQLITE_BUSY ? deadlineExceeded() : error;
      } finally {
        if (wait !== BUSY_TIMEOUT_MS) this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      try {
        const result = await runWork(run, work);
        if (budget !== undefined) callBudgetMs();
        this.db.exec("COMMIT");
        return result;
      } catch (error) {
        this.db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  exclusive(work: (tx: SqlTx) => Promise<void>): Promise<void> {
    return this.transaction("write", work);
  }

  async ping(): Promise<void> {
    await this.run("SELECT 1");
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.isOpen) this.db.close();
  }

  /** Runs `work` after every call queued before it: transactions must not interleave on the one connection. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => {});
    return result;
  }

  private execute(sql: string, args: unknown[]): SqlResult {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      const statement = this.db.prepare(sql);
      prepared = { statement, reads: RETURNS_ROWS.test(sql) };
      this.statements.set(sql, prepared);
    }
    const values = args as SQLInputValue[];
    if (prepared.reads) return { rows: prepared.statement.all(...values) as Row[], changes: 0 };
    return { rows: [], changes: Number(prepared.statement.run(...values).changes) };
  }
}

// Statements whose rows are read with all(); the others run() for their change count. Decided by
// the text because StatementSync.columns() is missing from Node 22.13, the oldest supported.
const RETURNS_ROWS = /^\s*(SELECT|WITH|PRAGMA|VALUES)\b|\bRETURNING\b/i;

function sqliteDialect(t: TableNames, path: string): SqlDialect {
  return {
    name: "sqlite",
    tables: t,
    quote: (name) => `"${name}"`,
    // Times are INTEGER microseconds already.
    time: (us) => us,
    timeOf: (column) => column,
    // BEGIN IMMEDIATE holds the file's write lock for the whole transaction.
    forUpdate: "",
    greatest: "MAX",
    jsonField: (column, key) => `json_extract(${column}, '$.${key}')`,
    rowValues: true,
    upsert: (table, keys, columns, larger) => onConflictUpdate("MAX", table, keys, columns, larger),
    insertIgnore: () => " ON CONFLICT DO NOTHING",
    isDuplicate: (error) => [SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY].includes((error as { errcode?: number }).errcode ?? 0),
    // Multi-row INSERTs of up to 50 events: fewer statements than one per event, and few
    // statement shapes to keep prepared (50 rows stay below SQLite's oldest variable limit, 999).
    eventChunks: (rows) => Array.from({ length: Math.ceil(rows.length / 50) }, (_, i) => rows.slice(i * 50, i * 50 + 50)),
    // One probe of the (session_pk, id) index per id: a single IN (…) query
    // lets SQLite walk the whole session through the primary key instead.
    lookupEachId: true,
    schema: {
      migrationsTable: `CREATE TABLE IF NOT EXISTS ${t.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
      migrations: sqliteMigrations(t),
      appliedAt: () => Date.now(),
      missing: async () => new SessiondError("not_found", `store: SQLite database ${JSON.stringify(path)} holds no sessiond tables`),
      outdated: (current, latest) =>
        new SessiondError("unavailable", `store: schema is at version ${current}, needs ${latest}; run "sessiond migrate"`),
      isMissingTable: (error) => error instanceof Error && /no such table/.test(error.message),
    },
  };
}

/** SQLite schema: times are integer microseconds since the epoch, JSON is TEXT. */
function sqliteMigrations(t: TableNames) {
  const types = { pk: "INTEGER PRIMARY KEY AUTOINCREMENT", int: "INTEGER", key: "TEXT", text: "TEXT", time: "INTEGER", json: "TEXT", flag: "INTEGER", no: "0" };
  const tables = initialTables(t, t, (name) => `"${name}"`, { ...types, eventsOptions: " WITHOUT ROWID" });
  return [
    { version: 1, name: "initial schema", statements: ddl(tables) },
    {
      version: 2,
      name: "initial state and fork lineage",
      statements: ddl(`
        ALTER TABLE ${t.sessions} ADD COLUMN initial_state TEXT;
        ALTER TABLE ${t.sessions} ADD COLUMN forked_from_session_id TEXT;
        ALTER TABLE ${t.sessions} ADD COLUMN forked_from_user_id TEXT;
        ALTER TABLE ${t.sessions} ADD COLUMN forked_from_sequence INTEGER;
        CREATE INDEX ${t.sessions}_forked_from ON ${t.sessions} (app_name, forked_from_session_id);
      `),
    },
    encodedTailMigration(t, "BLOB"),
  ];
}
