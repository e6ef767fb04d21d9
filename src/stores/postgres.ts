import postgres from "postgres";
import type { SessionKey } from "../core/types.js";
import { BOUND_AS_TEXT, PostgresDriver, postgresError } from "./private/postgres-driver.js";
import { PostgresAppend } from "./private/postgres-append.js";
import { NotifyHub, notifyChannel, sessionTopic } from "./private/postgres-notify.js";
import { parsePostgresUrl } from "./private/postgres-options.js";
import { postgresSchema, postgresTables } from "./private/postgres-schema.js";
import { onConflictUpdate, type SqlDialect } from "./sql/dialect.js";
import { utcDatetime } from "./sql/rows.js";
import { openSchema, type SqlOpenOptions } from "./sql/schema.js";
import { SqlStore } from "./sql/sql-store.js";
import type { PoolStats } from "./store.js";

/** Options of the PostgreSQL store beside its URL. */
export type PostgresOptions = SqlOpenOptions;

/**
 * PostgreSQL through the `postgres` driver: the SQL store with PostgreSQL's
 * hot paths (a one-round-trip append, ordered page scans) and
 * LISTEN/NOTIFY, so followers in other processes learn of appends at once.
 * Times are read and written as integer microseconds so TIMESTAMPTZ keeps
 * its full precision.
 */
export class PostgresStore extends SqlStore {
  declare readonly poolStats: () => PoolStats;

  private constructor(
    driver: PostgresDriver,
    dialect: SqlDialect,
    private readonly hub: NotifyHub,
  ) {
    super(driver, dialect);
  }

  /** Opens a pool for a `postgres://` or `postgresql://` URL and migrates (or checks) the schema. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const parsed = parsePostgresUrl(url);
    const tables = postgresTables(parsed.schema, parsed.tablePrefix);
    const sql = postgres(parsed.driverUrl, {
      max: parsed.max,
      idle_timeout: parsed.idleTimeout,
      max_lifetime: parsed.maxLifetime ?? undefined,
      ssl: parsed.ssl,
      onnotice: () => {},
      types: BOUND_AS_TEXT,
      // Seconds before a closed connection reconnects: the driver's default grows to 20 s during an
      // outage, so the pool would come back long after the server does.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.25),
      // Statements stay prepared, but are planned for their parameters: a generic plan made
      // while a table was small (a fresh deployment) or for a small app would stick otherwise.
      // No JIT: the store's statements are short. A plan costed past jit_above_cost (a large scan, or
      // one made with a disabled node type) compiled for 0.1–0.5 s here, for a query that ran in 6 ms.
      connection: { application_name: "sessiond", plan_cache_mode: "force_custom_plan", jit: "off" },
    });
    const driver = new PostgresDriver(sql, parsed.max, parsed.schema, tables.migrations);
    const hub = new NotifyHub(sql, notifyChannel(parsed.schema, parsed.tablePrefix));
    const appender = new PostgresAppend(tables, hub.channel);
    const schemaExists = async () => (await driver.run("SELECT 1 FROM pg_namespace WHERE nspname = ?", [parsed.schema])).rows.length > 0;
    const notify = async (tx: { run(sql: string, args: unknown[]): Promise<unknown> }, keys: SessionKey[]) => {
      await tx.run("SELECT pg_notify(?, topic) FROM jsonb_array_elements_text(?) AS topic", [hub.channel, JSON.stringify(keys.map(sessionTopic))]);
    };
    const dialect: SqlDialect = {
      name: "postgres",
      tables,
      schema: postgresSchema(parsed.schema, parsed.tablePrefix, schemaExists),
      quote: (name) => `"${name}"`,
      time: (us) => `${utcDatetime(us)}+00`,
      timeOf: (column) => `(extract(epoch from ${column}) * 1000000)::int8`,
      forUpdate: " FOR UPDATE",
      greatest: "greatest",
      jsonField: (column, key) => `(${column} -> '${key}')`,
      rowValues: true,
      upsert: (table, keys, columns, larger) => onConflictUpdate("greatest", table, keys, columns, larger),
      insertIgnore: () => " ON CONFLICT DO NOTHING",
      isDuplicate: (error) => (error as { code?: unknown }).code === "23505",
      // An ordered scan of the (session_pk, sequence) key stops after the page. The session's size is
      // unknown when the plan is made (its pk comes from a subquery), and when it is underestimated the
      // planner picks a bitmap scan and a sort, which read the whole rest of the session for every page:
      // a long replay would take time quadratic in its length.
      orderedScan: ["SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_sort = off"],
      // Replays of 200,000 events: 100k–114k events/s with 1,000-event reads, 125k–150k with 4,000.
      streamPageSize: 4000,
      // bytea arrives as hex text, which the driver turns into a Buffer: base64 is a third of the size less and decodes faster.
      encodedAsBase64: (column) => `encode(${column}, 'base64')`,
      // One round trip for the common append instead of five or more.
      append: (key, batch) => driver.use((c) => appender.append(c, key, batch), true),
      notify,
    };
    try {
      await openSchema(driver, dialect, options, parsed.autoMigrate);
    } catch (error) {
      throw postgresError(error, { detail: true });
    }
    return new PostgresStore(driver, dialect, hub);
  }

  /** The LISTEN/NOTIFY channel appends are announced on. */
  get channel(): string {
    return this.hub.channel;
  }

  async subscribe(key: SessionKey, listener: () => void): Promise<() => Promise<void>> {
    try {
      return await this.hub.subscribe(key, listener);
    } catch (error) {
      throw postgresError(error);
    }
  }
}
