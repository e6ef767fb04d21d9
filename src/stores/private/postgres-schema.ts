import { SessiondError } from "../../core/errors.js";
import { ddl } from "../sql/schema.js";
import type { Migration, SqlSchema, SqlTables } from "../sql/dialect.js";
import { tableNames } from "../sql/rows.js";

/**
 * PostgreSQL schema, mirroring the SQLite one: sessions get a bigint key so
 * events reference 8 bytes instead of the (app, user, id) triple, and
 * (session_pk, sequence) is the events' primary key. Times are TIMESTAMPTZ
 * (microsecond precision), JSON is JSONB. Key columns use the "C" collation:
 * byte order, as the other stores sort, and cheaper to compare.
 */

/**
 * Schema-qualified, quoted table names for a schema and prefix. Both are
 * validated as identifiers (the schema by the URL parser, the prefix by
 * tableNames), and are quoted on top of that.
 */
export function postgresTables(schema: string, prefix: string): SqlTables {
  return Object.fromEntries(Object.entries(tableNames(prefix)).map(([k, v]) => [k, `"${schema}"."${v}"`])) as SqlTables;
}

/** The schema of the store's tables in `schema` with `prefix`, and how a missing or old one is reported. */
export function postgresSchema(schema: string, prefix: string, exists: () => Promise<boolean>): SqlSchema {
  const t = postgresTables(schema, prefix);
  return {
    migrationsTable: `CREATE TABLE IF NOT EXISTS ${t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    migrations: postgresMigrations(schema, prefix),
    appliedAt: () => new Date().toISOString(),
    missing: async () => {
      const what = (await exists()) ? `schema "${schema}" holds no sessiond tables` : `schema "${schema}" does not exist`;
      return new SessiondError("not_found", `store: PostgreSQL ${what}${prefix ? ` (table prefix ${prefix})` : ""}`);
    },
    outdated: (current, latest) =>
      new SessiondError(
        "unavailable",
        `store: schema "${schema}" is at version ${current}, needs ${latest}; run "sessiond migrate" with a role that may create tables`,
      ),
    isMissingTable: (error) => (error as { code?: unknown }).code === "42P01",
  };
}

/** The numbered migrations of this version, oldest first. */
function postgresMigrations(schema: string, prefix: string): Migration[] {
  const t = postgresTables(schema, prefix);
  const bare = tableNames(prefix);
  const index = (table: string, suffix: string) => `"${table}_${suffix}"`;
  const s = bare.sessions;
  const e = bare.events;
  return [
    {
      version: 1,
      name: "initial schema",
      statements: ddl(`
        CREATE TABLE ${t.sessions} (
          pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          app_name text COLLATE "C" NOT NULL,
          user_id text COLLATE "C" NOT NULL,
          id text COLLATE "C" NOT NULL,
          agent_id text NOT NULL DEFAULT '',
          status text NOT NULL DEFAULT 'active',
          state jsonb NOT NULL DEFAULT '{}',
          metadata jsonb NOT NULL DEFAULT '{}',
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          last_sequence bigint NOT NULL DEFAULT 0,
          UNIQUE (app_name, user_id, id)
        );
        CREATE INDEX ${index(s, "app_updated")} ON ${t.sessions} (app_name, updated_at, user_id, id);
        CREATE INDEX ${index(s, "user_id")} ON ${t.sessions} (app_name, user_id, updated_at);
        CREATE INDEX ${index(s, "agent_id")} ON ${t.sessions} (app_name, agent_id);
        CREATE INDEX ${index(s, "status")} ON ${t.sessions} (app_name, status);
        CREATE INDEX ${index(s, "created_at")} ON ${t.sessions} (app_name, created_at);
        CREATE INDEX ${index(s, "updated_at")} ON ${t.sessions} (updated_at);
        CREATE TABLE ${t.events} (
          session_pk bigint NOT NULL REFERENCES ${t.sessions} (pk) ON DELETE CASCADE,
          sequence bigint NOT NULL,
          id text NOT NULL,
          invocation_id text NOT NULL DEFAULT '',
          agent_id text NOT NULL DEFAULT '',
          author text NOT NULL DEFAULT '',
          branch text NOT NULL DEFAULT '',
          timestamp timestamptz NOT NULL,
          content jsonb,
          actions jsonb,
          metadata jsonb,
          turn_complete boolean NOT NULL DEFAULT false,
          error_code text NOT NULL DEFAULT '',
          error_message text NOT NULL DEFAULT '',
          long_running_tool_ids jsonb,
          interrupted boolean NOT NULL DEFAULT false,
          PRIMARY KEY (session_pk, sequence),
          UNIQUE (session_pk, id)
        );
        CREATE INDEX ${index(e, "timestamp")} ON ${t.events} (session_pk, timestamp);
        CREATE INDEX ${index(e, "invocation_id")} ON ${t.events} (session_pk, invocation_id);
        CREATE INDEX ${index(e, "agent_id")} ON ${t.events} (session_pk, agent_id);
        CREATE TABLE ${t.appStates} (
          app_name text COLLATE "C" PRIMARY KEY,
          state jsonb NOT NULL,
          updated_at timestamptz NOT NULL
        );
        CREATE TABLE ${t.userStates} (
          app_name text COLLATE "C" NOT NULL,
          user_id text COLLATE "C" NOT NULL,
          state jsonb NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (app_name, user_id)
        );
      `),
    },
    {
      version: 2,
      name: "initial state and fork lineage",
      statements: ddl(`
        ALTER TABLE ${t.sessions}
          ADD COLUMN initial_state jsonb,
          ADD COLUMN forked_from_session_id text COLLATE "C",
          ADD COLUMN forked_from_user_id text COLLATE "C",
          ADD COLUMN forked_from_sequence bigint;
        CREATE INDEX ${index(s, "forked_from")} ON ${t.sessions} (app_name, forked_from_session_id);
      `),
    },
  ];
}
