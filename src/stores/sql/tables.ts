import type { Migration, SqlTables } from "./dialect.js";
import type { TableNames } from "./rows.js";

/** Column types of a dialect, for {@link initialTables}. */
export interface ColumnTypes {
  /** The definition of the sessions' generated integer key. */
  pk: string;
  int: string;
  /** App names, user ids and session ids: compared and sorted by bytes. */
  key: string;
  text: string;
  time: string;
  json: string;
  flag: string;
  /** The flag's false value. */
  no: string;
  /** Options after the events table's definition. */
  eventsOptions?: string;
}

/**
 * The tables of the first migration of SQLite and PostgreSQL (MySQL spells
 * its own, with byte lengths). Sessions get an integer key so events
 * reference 8 bytes instead of the (app, user, id) triple; (session_pk,
 * sequence) is the events' primary key, which makes sequences unique per
 * session and keeps a session's events together.
 */
export function initialTables(t: SqlTables, bare: TableNames, quote: (name: string) => string, c: ColumnTypes): string {
  const sessionsIndex = (suffix: string, columns: string) => `CREATE INDEX ${quote(`${bare.sessions}_${suffix}`)} ON ${t.sessions} (${columns})`;
  const eventsIndex = (suffix: string, columns: string) => `CREATE INDEX ${quote(`${bare.events}_${suffix}`)} ON ${t.events} (${columns})`;
  return `
    CREATE TABLE ${t.sessions} (
      pk ${c.pk},
      app_name ${c.key} NOT NULL,
      user_id ${c.key} NOT NULL,
      id ${c.key} NOT NULL,
      agent_id ${c.text} NOT NULL DEFAULT '',
      status ${c.text} NOT NULL DEFAULT 'active',
      state ${c.json} NOT NULL DEFAULT '{}',
      metadata ${c.json} NOT NULL DEFAULT '{}',
      created_at ${c.time} NOT NULL,
      updated_at ${c.time} NOT NULL,
      last_sequence ${c.int} NOT NULL DEFAULT 0,
      UNIQUE (app_name, user_id, id)
    );
    ${sessionsIndex("app_updated", "app_name, updated_at, user_id, id")};
    ${sessionsIndex("user_id", "app_name, user_id, updated_at")};
    ${sessionsIndex("agent_id", "app_name, agent_id")};
    ${sessionsIndex("status", "app_name, status")};
    ${sessionsIndex("created_at", "app_name, created_at")};
    CREATE TABLE ${t.events} (
      session_pk ${c.int} NOT NULL REFERENCES ${t.sessions} (pk) ON DELETE CASCADE,
      sequence ${c.int} NOT NULL,
      id ${c.text} NOT NULL,
      invocation_id ${c.text} NOT NULL DEFAULT '',
      agent_id ${c.text} NOT NULL DEFAULT '',
      author ${c.text} NOT NULL DEFAULT '',
      branch ${c.text} NOT NULL DEFAULT '',
      timestamp ${c.time} NOT NULL,
      content ${c.json},
      actions ${c.json},
      metadata ${c.json},
      turn_complete ${c.flag} NOT NULL DEFAULT ${c.no},
      error_code ${c.text} NOT NULL DEFAULT '',
      error_message ${c.text} NOT NULL DEFAULT '',
      long_running_tool_ids ${c.json},
      interrupted ${c.flag} NOT NULL DEFAULT ${c.no},
      PRIMARY KEY (session_pk, sequence),
      UNIQUE (session_pk, id)
    )${c.eventsOptions ?? ""};
    ${eventsIndex("timestamp", "session_pk, timestamp")};
    ${eventsIndex("invocation_id", "session_pk, invocation_id")};
    ${eventsIndex("agent_id", "session_pk, agent_id")};
    CREATE TABLE ${t.appStates} (
      app_name ${c.key} PRIMARY KEY,
      state ${c.json} NOT NULL,
      updated_at ${c.time} NOT NULL
    );
    CREATE TABLE ${t.userStates} (
      app_name ${c.key} NOT NULL,
      user_id ${c.key} NOT NULL,
      state ${c.json} NOT NULL,
      updated_at ${c.time} NOT NULL,
      PRIMARY KEY (app_name, user_id)
    )`;
}

/**
 * Migration 3: each event's encoded tail (see EventData.encodedTail), in a
 * column of the dialect's binary type. Events stored before it have none;
 * reads encode those from their columns as before.
 */
export function encodedTailMigration(t: SqlTables, binaryType: string): Migration {
  return { version: 3, name: "encoded event tails", statements: [`ALTER TABLE ${t.events} ADD COLUMN encoded ${binaryType}`] };
}
