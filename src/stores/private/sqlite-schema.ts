import type { DatabaseSync } from "node:sqlite";
import { SessiondError } from "../../core/errors.js";
import type { Migration, TableNames } from "./sql.js";

/** Applies the migrations the database lacks; the caller holds a write transaction. */
export function migrateSqlite(db: DatabaseSync, t: TableNames): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${t.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(db.prepare(`SELECT version FROM ${t.migrations}`).all().map((r) => Number(r.version)));
  const record = db.prepare(`INSERT INTO ${t.migrations} (version, name, applied_at) VALUES (?, ?, ?)`);
  for (const migration of sqliteMigrations(t)) {
    if (applied.has(migration.version)) continue;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, Date.now());
  }
}

/** Throws when the schema is missing or older than this version (auto_migrate off); not_found when there is none and `mustExist`. */
export function requireSqliteSchema(db: DatabaseSync, t: TableNames, path: string, mustExist = false): void {
  const latest = Math.max(...sqliteMigrations(t).map((m) => m.version));
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t.migrations);
  const current = hasTable ? Number(db.prepare(`SELECT MAX(version) AS v FROM ${t.migrations}`).get()?.v ?? 0) : 0;
  if (current === 0 && mustExist) throw new SessiondError("not_found", `store: SQLite database ${JSON.stringify(path)} holds no sessiond tables`);
  if (current < latest) {
    throw new SessiondError("unavailable", `store: schema is at version ${current}, needs ${latest}; run "sessiond migrate"`);
  }
}


/**
 * SQLite schema. Times are integer microseconds since the epoch; JSON is
 * TEXT. Sessions get an integer key so events reference 8 bytes instead of
 * the (app, user, id) triple; (session_pk, sequence) is the events' primary
 * key, which makes sequences unique per session and keeps a session's events
 * contiguous on disk.
 */
export function sqliteMigrations(t: TableNames): Migration[] {
  return [
    {
      version: 1,
      name: "initial schema",
      sql: `
        CREATE TABLE ${t.sessions} (
          pk INTEGER PRIMARY KEY AUTOINCREMENT,
          app_name TEXT NOT NULL,
          user_id TEXT NOT NULL,
          id TEXT NOT NULL,
          agent_id TEXT NOT NULL DEFAULT '',
          status TEXT NOT NULL DEFAULT 'active',
          state TEXT NOT NULL DEFAULT '{}',
          metadata TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          last_sequence INTEGER NOT NULL DEFAULT 0,
          UNIQUE (app_name, user_id, id)
        );
        CREATE INDEX ${t.sessions}_app_updated ON ${t.sessions} (app_name, updated_at, user_id, id);
        CREATE INDEX ${t.sessions}_user_id ON ${t.sessions} (app_name, user_id, updated_at);
        CREATE INDEX ${t.sessions}_agent_id ON ${t.sessions} (app_name, agent_id);
        CREATE INDEX ${t.sessions}_status ON ${t.sessions} (app_name, status);
        CREATE INDEX ${t.sessions}_created_at ON ${t.sessions} (app_name, created_at);
        CREATE TABLE ${t.events} (
          session_pk INTEGER NOT NULL REFERENCES ${t.sessions} (pk) ON DELETE CASCADE,
          sequence INTEGER NOT NULL,
          id TEXT NOT NULL,
          invocation_id TEXT NOT NULL DEFAULT '',
          agent_id TEXT NOT NULL DEFAULT '',
          author TEXT NOT NULL DEFAULT '',
          branch TEXT NOT NULL DEFAULT '',
          timestamp INTEGER NOT NULL,
          content TEXT,
          actions TEXT,
          metadata TEXT,
          turn_complete INTEGER NOT NULL DEFAULT 0,
          error_code TEXT NOT NULL DEFAULT '',
          error_message TEXT NOT NULL DEFAULT '',
          long_running_tool_ids TEXT,
          interrupted INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (session_pk, sequence),
          UNIQUE (session_pk, id)
        ) WITHOUT ROWID;
        CREATE INDEX ${t.events}_timestamp ON ${t.events} (session_pk, timestamp);
        CREATE INDEX ${t.events}_invocation_id ON ${t.events} (session_pk, invocation_id);
        CREATE INDEX ${t.events}_agent_id ON ${t.events} (session_pk, agent_id);
        CREATE TABLE ${t.appStates} (
          app_name TEXT PRIMARY KEY,
          state TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE ${t.userStates} (
          app_name TEXT NOT NULL,
          user_id TEXT NOT NULL,
          state TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (app_name, user_id)
        );
      `,
    },
  ];
}
