import type { Sql } from "postgres";
import { SessiondError } from "../../core/errors.js";
import { type Migration, type TableNames, tableNames } from "./sql.js";

/**
 * PostgreSQL schema, mirroring the SQLite one: sessions get a bigint key so
 * events reference 8 bytes instead of the (app, user, id) triple, and
 * (session_pk, sequence) is the events' primary key. Times are TIMESTAMPTZ
 * (microsecond precision), JSON is JSONB. Key columns use the "C" collation:
 * byte order, as the other stores sort, and cheaper to compare.
 */

/** Where the store's tables live: the schema plus prefixed table names. */
export interface PostgresTables {
  schema: string;
  prefix: string;
  /** Unqualified table names (also the stem of index names). */
  bare: TableNames;
  /** Schema-qualified, quoted table names for SQL text. */
  quoted: TableNames;
}

/**
 * Table names for a schema and prefix. Both are validated as identifiers
 * (the schema by the URL parser, the prefix by {@link tableNames}), and are
 * quoted on top of that.
 */
export function postgresTables(schema: string, prefix: string): PostgresTables {
  const bare = tableNames(prefix);
  const quote = (name: string) => `"${schema}"."${name}"`;
  const quoted = Object.fromEntries(Object.entries(bare).map(([k, v]) => [k, quote(v)])) as unknown as TableNames;
  return { schema, prefix, bare, quoted };
}

/** The numbered migrations of this version, oldest first. */
export function postgresMigrations(tables: PostgresTables): Migration[] {
  const t = tables.quoted;
  const index = (table: string, suffix: string) => `"${table}_${suffix}"`;
  const s = tables.bare.sessions;
  const e = tables.bare.events;
  return [
    {
      version: 1,
      name: "initial schema",
      sql: `
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
      `,
    },
  ];
}

/**
 * Creates the schema when missing and applies the migrations it lacks, in
 * one transaction. An advisory lock keyed on the migrations table makes
 * servers starting at the same time apply them once.
 */
export async function migratePostgres(sql: Sql, tables: PostgresTables): Promise<void> {
  const t = tables.quoted;
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${t.migrations}))`;
    // Checked first because CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege.
    const [found] = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${tables.schema}`;
    if (!found) await tx.unsafe(`CREATE SCHEMA "${tables.schema}"`);
    await tx.unsafe(
      `CREATE TABLE IF NOT EXISTS ${t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = new Set((await tx.unsafe(`SELECT version FROM ${t.migrations}`)).map((r) => Number(r.version)));
    for (const migration of postgresMigrations(tables)) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx.unsafe(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
  });
}

/** Throws when the schema is missing or older than this version (auto_migrate off); not_found when there is none and `mustExist`. */
export async function requirePostgresSchema(sql: Sql, tables: PostgresTables, mustExist = false): Promise<void> {
  const latest = Math.max(...postgresMigrations(tables).map((m) => m.version));
  const [exists] = await sql`SELECT to_regclass(${tables.quoted.migrations}) IS NOT NULL AS ok`;
  let current = 0;
  if (exists?.ok) {
    const [row] = await sql.unsafe(`SELECT coalesce(max(version), 0) AS v FROM ${tables.quoted.migrations}`);
    current = Number(row?.v ?? 0);
  }
  if (current === 0 && mustExist) {
    const [schema] = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${tables.schema}`;
    const what = schema ? `schema "${tables.schema}" holds no sessiond tables` : `schema "${tables.schema}" does not exist`;
    throw new SessiondError("not_found", `store: PostgreSQL ${what}${tables.prefix ? ` (table prefix ${tables.prefix})` : ""}`);
  }
  if (current < latest) {
    throw new SessiondError(
      "unavailable",
      `store: schema "${tables.schema}" is at version ${current}, needs ${latest}; run "sessiond migrate" with a role that may create tables`,
    );
  }
}
