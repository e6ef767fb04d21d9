import { SessiondError } from "../../core/errors.js";
import { ddl } from "../sql/schema.js";
import type { Migration, SqlSchema, SqlTables } from "../sql/dialect.js";
import { tableNames } from "../sql/rows.js";
import { encodedTailMigration, initialTables } from "../sql/tables.js";

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
  const bare = tableNames(prefix);
  const t = postgresTables(schema, prefix);
  const types = { pk: "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", int: "bigint", key: 'text COLLATE "C"', text: "text" };
  const tables = initialTables(t, bare, (name) => `"${name}"`, { ...types, time: "timestamptz", json: "jsonb", flag: "boolean", no: "false" });
  // Retention purges by update time across apps.
  const byUpdateTime = `CREATE INDEX "${bare.sessions}_updated_at" ON ${t.sessions} (updated_at)`;
  return [
    { version: 1, name: "initial schema", statements: [...ddl(tables), byUpdateTime] },
    {
      version: 2,
      name: "initial state and fork lineage",
      statements: ddl(`
        ALTER TABLE ${t.sessions}
          ADD COLUMN initial_state jsonb,
          ADD COLUMN forked_from_session_id text COLLATE "C",
          ADD COLUMN forked_from_user_id text COLLATE "C",
          ADD COLUMN forked_from_sequence bigint;
        CREATE INDEX "${bare.sessions}_forked_from" ON ${t.sessions} (app_name, forked_from_session_id);
      `),
    },
    encodedTailMigration(t, "bytea"),
    {
      version: 4,
      name: "events without a foreign key",
      // The foreign key's check trigger re-read the session row for every inserted event: about half of a
      // 100-event append statement, for a row the append has locked already. Every statement writing events
      // locks their session first, and deletes remove a session's events themselves (see SqlStore), so
      // the key checked nothing they do not. The constraint's name is looked up: it was generated.
      statements: [
        `DO $$ DECLARE c name; BEGIN
          FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = '${t.events}'::regclass AND contype = 'f' LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', '${t.events}'::regclass, c);
          END LOOP;
        END $$`,
      ],
    },
  ];
}
