import postgres from "postgres";
import { FILLER, type RawEventRow } from "./events.js";

/**
 * The raw-driver baseline: the `postgres` driver writing and reading an
 * events table shaped like a store's (same columns, JSON as jsonb), in a
 * schema of its own that {@link BenchPostgres.drop} removes.
 */
export interface BenchPostgres {
  readonly sql: postgres.Sql;
  readonly url: string;
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
  /** Drops the schema and closes the connections. */
  drop(): Promise<void>;
}

const COLUMNS = ["session_id", "sequence", "id", "invocation_id", "author", "timestamp", "content", "actions"] as const;

/** Creates `schema` with the events table and connects with it first on the search path. */
export async function openBenchPostgres(url: string, schema: string): Promise<BenchPostgres> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const sql = postgres(url, { max: 4, onnotice: () => {}, connection: { search_path: schema } });
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
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
