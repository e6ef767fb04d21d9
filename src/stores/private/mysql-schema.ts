import { SessiondError } from "../../core/errors.js";
import { nowUs } from "../../core/time.js";
import type { Migration, SqlSchema } from "../sql/dialect.js";
import { type TableNames, utcDatetime } from "../sql/rows.js";
import { encodedTailMigration } from "../sql/tables.js";
import { ER_NO_SUCH_TABLE, errno } from "./mysql-driver.js";
import type { MysqlSettings } from "./mysql-options.js";

/** Table options of every table: InnoDB, 4-byte UTF-8, binary text comparison. */
const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/**
 * The schema of the store's tables and how a missing or old one is
 * reported. DDL commits implicitly on MySQL, so a migration is a list of
 * statements that are each safe to run again (IF NOT EXISTS); the version
 * is recorded right after the last one succeeds.
 */
export function mysqlSchema(settings: MysqlSettings): SqlSchema {
  const t = settings.tables;
  return {
    migrationsTable: `CREATE TABLE IF NOT EXISTS ${t.migrations} (
      version INT NOT NULL PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      applied_at DATETIME(6) NOT NULL
    ) ${TABLE_OPTIONS}`,
    migrations: mysqlMigrations(t),
    appliedAt: () => utcDatetime(nowUs()),
    missing: async () => {
      const prefix = settings.tablePrefix ? ` with table prefix ${settings.tablePrefix}` : "";
      return new SessiondError("not_found", `store: MySQL database ${JSON.stringify(settings.database)} holds no sessiond tables${prefix}`);
    },
    outdated: (current, latest) =>
      new SessiondError(
        "unavailable",
        `store: the MySQL schema is at version ${current}, this server needs ${latest} and auto-migration is off; run "sessiond migrate" first`,
      ),
    isMissingTable: (error) => errno(error) === ER_NO_SUCH_TABLE,
  };
}

/**
 * MySQL 8.0+ / MariaDB 10.11 schema, mirroring the SQLite one.
 *
 * Identifiers and the labels events are filtered by are VARBINARY holding
 * UTF-8: every collation of utf8mb4 that both servers share is PAD SPACE, so
 * even utf8mb4_bin treats "a" and "a " as one value; bytes compare exactly,
 * like the other stores, and sort in code point order. Lengths are bytes:
 * 128 UTF-16 code units take at most 384 bytes, 256 at most 768, 1024 at
 * most 3072. The unique (app, user, id) key is 3 × 512 bytes, within
 * InnoDB's 3072-byte index limit. Other text is utf8mb4 with a binary
 * collation, JSON is JSON (LONGTEXT checked by JSON_VALID on MariaDB), times
 * are DATETIME(6) in UTC.
 */
function mysqlMigrations(t: TableNames): Migration[] {
  return [
    {
      version: 1,
      name: "initial schema",
      statements: [
        `CREATE TABLE IF NOT EXISTS ${t.sessions} (
          pk BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          app_name VARBINARY(512) NOT NULL,
          user_id VARBINARY(512) NOT NULL,
          id VARBINARY(512) NOT NULL,
          agent_id VARBINARY(1024) NOT NULL DEFAULT '',
          status VARCHAR(16) NOT NULL DEFAULT 'active',
          state JSON NOT NULL,
          metadata JSON NOT NULL,
          created_at DATETIME(6) NOT NULL,
          updated_at DATETIME(6) NOT NULL,
          last_sequence BIGINT NOT NULL DEFAULT 0,
          UNIQUE KEY session_key (app_name, user_id, id),
          KEY app_updated (app_name, updated_at, user_id, id),
          KEY app_user (app_name, user_id, updated_at, id),
          KEY app_agent (app_name, agent_id),
          KEY app_status (app_name, status),
          KEY app_created (app_name, created_at)
        ) ${TABLE_OPTIONS}`,
        `CREATE TABLE IF NOT EXISTS ${t.events} (
          session_pk BIGINT UNSIGNED NOT NULL,
          sequence BIGINT NOT NULL,
          id VARBINARY(512) NOT NULL,
          invocation_id VARBINARY(1024) NOT NULL DEFAULT '',
          agent_id VARBINARY(1024) NOT NULL DEFAULT '',
          author VARBINARY(4096) NOT NULL DEFAULT '',
          branch VARBINARY(4096) NOT NULL DEFAULT '',
          timestamp DATETIME(6) NOT NULL,
          content JSON NULL,
          actions JSON NULL,
          metadata JSON NULL,
          turn_complete BOOLEAN NOT NULL DEFAULT FALSE,
          error_code VARCHAR(1024) NOT NULL DEFAULT '',
          error_message MEDIUMTEXT NOT NULL,
          long_running_tool_ids JSON NULL,
          interrupted BOOLEAN NOT NULL DEFAULT FALSE,
          PRIMARY KEY (session_pk, sequence),
          UNIQUE KEY event_id (session_pk, id),
          KEY event_timestamp (session_pk, timestamp),
          KEY event_invocation (session_pk, invocation_id),
          KEY event_agent (session_pk, agent_id),
          CONSTRAINT ${t.events}_session FOREIGN KEY (session_pk) REFERENCES ${t.sessions} (pk) ON DELETE CASCADE
        ) ${TABLE_OPTIONS}`,
        `CREATE TABLE IF NOT EXISTS ${t.appStates} (
          app_name VARBINARY(512) NOT NULL PRIMARY KEY,
          state JSON NOT NULL,
          updated_at DATETIME(6) NOT NULL
        ) ${TABLE_OPTIONS}`,
        `CREATE TABLE IF NOT EXISTS ${t.userStates} (
          app_name VARBINARY(512) NOT NULL,
          user_id VARBINARY(512) NOT NULL,
          state JSON NOT NULL,
          updated_at DATETIME(6) NOT NULL,
          PRIMARY KEY (app_name, user_id)
        ) ${TABLE_OPTIONS}`,
      ],
    },
    {
      version: 2,
      name: "initial state and fork lineage",
      statements: [
        `ALTER TABLE ${t.sessions}
          ADD COLUMN initial_state JSON NULL,
          ADD COLUMN forked_from_session_id VARBINARY(512) NULL,
          ADD COLUMN forked_from_user_id VARBINARY(512) NULL,
          ADD COLUMN forked_from_sequence BIGINT NULL,
          ADD KEY app_forked_from (app_name, forked_from_session_id)`,
      ],
    },
    encodedTailMigration(t, "LONGBLOB NULL"),
  ];
}
