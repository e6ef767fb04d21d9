import type postgres from "postgres";

/** PostgreSQL's own figures for the statements whose text starts with a prefix. */
export interface StatementFigures {
  calls: number;
  /** Mean execution time in the server, milliseconds. */
  meanMs: number;
  /** Write-ahead log written per call, bytes. */
  walBytes: number;
}

/**
 * The server's side of each contender's calls, from `pg_stat_statements`
 * where the server loads it (`shared_preload_libraries`): execution time
 * and WAL per statement, which split a latency ratio into the database's
 * part and the client's. The statistics are cluster-wide, so one probe
 * sees sessiond's store and the raw driver alike.
 */
export interface StatementProbe {
  /** Figures, since the probe was made, of the statements starting with each prefix, summed over their normalized forms. */
  read<K extends string>(prefixes: Record<K, string>): Promise<Record<K, StatementFigures | undefined>>;
}

/**
 * A probe on the database `sql` is connected to, counting from now (it
 * resets the statistics), or undefined where the server does not collect them.
 */
export async function statementProbe(sql: postgres.Sql): Promise<StatementProbe | undefined> {
  // Checked first so that nothing is created in a database whose server would not fill the view.
  const [loaded] = await sql`SELECT current_setting('shared_preload_libraries') ~ 'pg_stat_statements' AS yes`;
  if (loaded?.yes !== true) return undefined;
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
    await sql`SELECT pg_stat_statements_reset()`;
  } catch {
    // Not installed, or not allowed to this role.
    return undefined;
  }
  return {
    async read(prefixes) {
      const names = Object.keys(prefixes) as (keyof typeof prefixes)[];
      const rows = await sql`
        SELECT p.i, sum(s.calls)::float8 AS calls, sum(s.total_exec_time)::float8 AS ms, sum(s.wal_bytes)::float8 AS wal
        FROM unnest(${names.map((name) => prefixes[name])}::text[]) WITH ORDINALITY AS p(prefix, i)
        LEFT JOIN pg_stat_statements s ON starts_with(ltrim(s.query, E' \\t\\n\\r'), p.prefix)
        GROUP BY p.i`;
      const result = {} as Record<keyof typeof prefixes, StatementFigures | undefined>;
      for (const row of rows) {
        const calls = Number(row.calls ?? 0);
        result[names[Number(row.i) - 1]!] = calls === 0 ? undefined : { calls, meanMs: Number(row.ms) / calls, walBytes: Number(row.wal) / calls };
      }
      return result;
    },
  };
}

/** The row note comparing sessiond's statement with the raw driver's, when both were counted. */
export function statementNote(figures: Record<"sessiond" | "raw", StatementFigures | undefined>): string | undefined {
  const { sessiond, raw } = figures;
  if (sessiond === undefined || raw === undefined) return undefined;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  return (
    `PostgreSQL's execution per call (pg_stat_statements): sessiond ${sessiond.meanMs.toFixed(3)} ms, ${kb(sessiond.walBytes)} WAL; ` +
    `raw ${raw.meanMs.toFixed(3)} ms, ${kb(raw.walBytes)} WAL`
  );
}

/** Text the contenders' append statements start with: sessiond's one-statement append and the raw inserts. */
export const APPEND_STATEMENTS = { sessiond: "WITH s AS (", raw: "INSERT INTO raw_events" } as const;
