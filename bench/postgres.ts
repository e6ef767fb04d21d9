import postgres from "postgres";
import { FILLER, type RawEventRow } from "./events.js";

/**
 * The raw-driver baseline: the `postgres` driver writing and reading an
 * events table shaped like a store's (same columns, JSON as jsonb), in a
 * database of its own that {@link BenchPostgres.drop} removes. A database,
 * not a schema: ADK's ORM inspects every schema of its database at start-up,
 * and must not trip over other clients' schemas coming and going.
 */
export interface BenchPostgres {
  readonly sql: postgres.Sql;
  /** URL of the bench database. */
  readonly url: string;
  /** Schema for ADK's tables in the bench database. */
  readonly schema: string;
  /** Inserts rows in one transaction with one multi-row INSERT. */
  insertBatch(rows: RawEventRow[]): Promise<void>;
  /** Inserts one row (autocommit). */
  insertOne(row: RawEventRow): Promise<void>;
  /** Writes `count` events of `sessionId` server-side; returns the milliseconds taken. */
  seed(sessionId: string, count: number): Promise<number>;
  /**
   * Reads a session's rows with sequence in (after, upTo] in order through a
   * cursor of `batch` rows (JSON parsed); returns the count.
   */
  readRange(sessionId: string, after: number, upTo: number, batch: number): Promise<number>;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

const COLUMNS = ["session_id", "sequence", "id", "invocation_id", "author", "timestamp", "content", "actions"] as const;

/** Creates a database named `name` with a schema of the same name holding the events table. */
export async function openBenchPostgres(serverUrl: string, name: string): Promise<BenchPostgres> {
  const onServer = async (statement: string) => {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(statement);
    } finally {
      await admin.end();
    }
  };
  await onServer(`CREATE DATABASE ${name}`);
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${name}`;
  const url = databaseUrl.toString();
  const schema = name;
  const sql = postgres(url, { max: 4, onnotice: () => {}, connection: { search_path: schema } });
  await sql.unsafe(`CREATE SCHEMA ${schema}`);
  await sql.unsafe(`
    CREATE TABLE raw_events (
      session_id text NOT NULL,
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
      PRIMARY KEY (session_id, sequence),
      UNIQUE (session_id, id)
    )`);
  let dropped = false;
  return {
    sql,
    url,
    schema,
    async insertBatch(rows) {
      await sql.begin((tx) => tx`INSERT INTO raw_events ${tx(rows, ...COLUMNS)}`);
    },
    async insertOne(row) {
      await sql`INSERT INTO raw_events ${sql(row, ...COLUMNS)}`;
    },
    async seed(sessionId, count) {
      const start = performance.now();
      await sql`
        INSERT INTO raw_events (session_id, sequence, id, invocation_id, author, timestamp, content, actions)
        SELECT ${sessionId}, g, md5(g::text), 'inv-' || (g >> 4), 'agent', now(),
               jsonb_build_object('role', 'model', 'parts', jsonb_build_array(jsonb_build_object('text', 'reply ' || g || ': ' || ${FILLER}::text))),
               jsonb_build_object('stateDelta', jsonb_build_object('turn', g))
        FROM generate_series(1, ${count}::bigint) AS g`;
      await sql`ANALYZE raw_events`;
      return performance.now() - start;
    },
    async readRange(sessionId, after, upTo, batch) {
      let count = 0;
      const cursor = sql`
        SELECT sequence, id, invocation_id, agent_id, author, branch, timestamp, content, actions, metadata,
               turn_complete, error_code, error_message, long_running_tool_ids, interrupted
        FROM raw_events WHERE session_id = ${sessionId} AND sequence > ${after} AND sequence <= ${upTo}
        ORDER BY sequence`.cursor(batch);
      for await (const rows of cursor) count += rows.length;
      return count;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 5 });
      await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
