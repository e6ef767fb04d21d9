import type { PendingQuery, ReservedSql, Row, RowList, Sql } from "postgres";
import { SessiondError } from "../../core/errors.js";
import { currentCallDeadline } from "../call-deadline.js";
import { callBudgetMs, deadlineExceeded, runWork, type SqlDriver, type SqlResult, type SqlTx, type TxMode } from "../sql/driver.js";
import type { PoolStats } from "../store.js";
import { classifyPostgresError } from "./postgres-errors.js";

type Fragment = PendingQuery<Row[]>;

/**
 * Types for the driver's `types` option: the SQL store binds JSON as JSON
 * text, times as 'YYYY-MM-DD HH:MM:SS.ffffff+00' and flags as 1/0, and the
 * driver serializes a parameter by the type the server describes for it,
 * which would encode JSON text again and cut times to milliseconds.
 */
export const BOUND_AS_TEXT = {
  jsonText: { to: 3802, from: [114, 3802], serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)), parse: JSON.parse },
  flag: { to: 16, from: [16], serialize: (x: unknown) => (x === true || x === 1 ? "t" : "f"), parse: (x: string) => x === "t" },
  time: {
    to: 1184,
    from: [1184],
    serialize: (x: unknown) => (typeof x === "string" ? x : (x instanceof Date ? x : new Date(x as number)).toISOString()),
    parse: (x: string) => new Date(x),
  },
};

const numbered = new Map<string, string>();

/** `?` placeholders as `$1`, `$2`, … (the store's statements have no `?` in literals). */
function dollars(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

function statement(c: ReservedSql, sql: string, args: unknown[]): Promise<SqlResult> {
  // The driver refuses undefined only once the query is built, which leaves a transaction begun on the connection hanging.
  if (args.includes(undefined)) return Promise.reject(new Error(`postgres driver: undefined parameter ${args.indexOf(undefined) + 1} of ${sql}`));
  const query = args.length === 0 ? c.unsafe(sql) : c.unsafe(dollars(sql), args as never[], { prepare: true });
  // Sent now, in call order: a COMMIT queued right behind it must not overtake it.
  query.execute();
  return query.then((rows) => ({ rows, changes: rows.count ?? 0 }));
}

/**
 * The `postgres` driver for the SQL store. Every call borrows one pooled
 * connection; statements issued without waiting for each other travel as
 * one pipeline, and BEGIN goes out with the first statement of a
 * transaction, so a transaction costs its statements' round trips plus
 * one for COMMIT.
 */
export class PostgresDriver implements SqlDriver {
  private inUse = 0;
  private waiting = 0;

  constructor(
    readonly sql: Sql,
    private readonly poolSize: number,
    private readonly schema: string,
    private readonly lockName: string,
  ) {}

  run(sql: string, args: unknown[] = []): Promise<SqlResult> {
    return this.use((c) => statement(c, sql, args));
  }

  /**
   * A transaction in as few round trips as its statements allow: BEGIN goes
   * out with the first statement, COMMIT with the statement marked `last`.
   * A read transaction's COMMIT is not waited for: it has nothing to
   * commit, and the connection's next user queues behind it.
   */
  transaction<T>(mode: TxMode, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.use(async (c) => {
      // Handled at once: a failed BEGIN must not be an unhandled rejection while the work runs.
      const begun = begin(c, mode === "read" ? "ISOLATION LEVEL REPEATABLE READ READ ONLY" : "").then(
        () => undefined,
        (error: unknown) => error,
      );
      let committing: PromiseLike<RowList<Row[]>>[] | undefined;
      const sendCommit = mode === "write" ? () => (committing = commit(c).map((f) => f.execute())) : undefined;
      let result: T;
      try {
        result = await runWork((sql, args) => statement(c, sql, args), work, sendCommit);
      } catch (error) {
        if (committing) await Promise.allSettled(committing);
        throw (await begun) ?? error;
      }
      const failed = await begun;
      if (failed) throw failed;
      if (mode === "read") c.unsafe("COMMIT").execute().catch(() => {});
      else await pipeline(c, committing ?? commit(c));
      return result;
    }, true);
  }

  /** A transaction holding an advisory lock keyed on the migrations table, creating the schema first when missing. */
  exclusive(work: (tx: SqlTx) => Promise<void>): Promise<void> {
    return this.transaction("write", async (tx) => {
      await tx.run("SELECT pg_advisory_xact_lock(hashtext(?))", [this.lockName]);
      // Checked first because CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege.
      const found = await tx.run("SELECT 1 FROM pg_namespace WHERE nspname = ?", [this.schema]);
      if (found.rows.length === 0) await tx.run(`CREATE SCHEMA "${this.schema}"`);
      await work(tx);
    });
  }

  async ping(): Promise<void> {
    await this.run("SELECT 1");
  }

  /**
   * Pool figures from this driver's own bookkeeping, since `postgres` does
   * not publish its pool: `total` is the configured size (connections open
   * lazily, up to it), `idle` the part no call holds, `waiting` the calls
   * queued for a connection.
   */
  poolStats(): PoolStats {
    return { total: this.poolSize, idle: Math.max(0, this.poolSize - this.inUse), waiting: this.waiting };
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  /**
   * Runs `work` on a borrowed connection. Work that keeps a transaction open
   * across round trips says `openTransaction`, so a failure rolls it back
   * before the connection returns to the pool.
   */
  async use<T>(work: (c: ReservedSql) => Promise<T>, openTransaction = false): Promise<T> {
    // A call whose deadline has passed does not start; transactions bound themselves (see begin and commit).
    callBudgetMs();
    this.waiting++;
    let c: ReservedSql;
    try {
      c = await this.sql.reserve();
    } catch (error) {
      throw postgresError(error);
    } finally {
      this.waiting--;
    }
    this.inUse++;
    try {
      return await work(c);
    } catch (error) {
      if (openTransaction) await c`ROLLBACK`.catch(() => {});
      throw postgresError(error);
    } finally {
      this.inUse--;
      c.release();
    }
  }
}

/**
 * Sends statements back to back on one connection and waits for all: one
 * round trip. Returns their results; throws the first error that is not
 * merely the consequence of an earlier one (inside a transaction, a failed
 * statement makes the later ones fail and turns COMMIT into a rollback).
 */
export async function pipeline(c: ReservedSql, statements: PromiseLike<RowList<Row[]>>[]): Promise<RowList<Row[]>[]> {
  const results = await Promise.allSettled(statements);
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as { code?: string }] : []));
  if (failures.length > 0) throw failures.find((e) => e.code !== "25P02") ?? failures[0];
  return results.map((r) => (r as PromiseFulfilledResult<RowList<Row[]>>).value);
}

/**
 * BEGIN, for pipelines that keep the transaction open, followed by the
 * `settings` (SET LOCAL statements) in the same simple query, so they cost
 * no round trip. Under a call deadline the transaction's statements and
 * lock waits are bounded by the time left.
 */
export function begin(c: ReservedSql, mode = "", settings: readonly string[] = []): Fragment {
  const budget = callBudgetMs();
  const bounds = budget === undefined ? [] : [`SET LOCAL statement_timeout = ${budget}`, `SET LOCAL lock_timeout = ${budget}`];
  return c.unsafe([`BEGIN ${mode}`, ...settings, ...bounds].join("; ")) as Fragment;
}

/**
 * COMMIT, for pipelines that end a transaction. Under a call deadline it is
 * preceded by a guard that fails when the deadline has passed by the time
 * the server gets there, which turns the COMMIT into a rollback: a write
 * that ran past its deadline is not committed, still in one round trip.
 */
export function commit(c: ReservedSql): Fragment[] {
  const deadline = currentCallDeadline()?.deadlineMs;
  if (deadline === undefined) return [c.unsafe("COMMIT") as Fragment];
  return [
    c`SELECT (CASE WHEN clock_timestamp() > to_timestamp(${deadline}::float8 / 1000) THEN ${DEADLINE_GUARD} ELSE '0' END)::int`,
    c.unsafe("COMMIT") as Fragment,
  ];
}

const DEADLINE_GUARD = "deadline passed before commit";

/**
 * Maps driver errors a client can act on to domain errors (see
 * {@link classifyPostgresError}); anything else is returned unchanged.
 * `detail` adds the driver's message to unavailability, for the operator
 * starting the server (clients only get the error code).
 */
export function postgresError(error: unknown, options: { detail?: boolean } = {}): unknown {
  if (error instanceof SessiondError || typeof error !== "object" || error === null) return error;
  const code = String((error as { code?: unknown }).code ?? "");
  // Statement and lock timeouts are set from the call's deadline (see begin), and the commit guard
  // fails with its own text; either way the transaction was rolled back.
  const guard = code === "22P02" && error instanceof Error && error.message.includes(DEADLINE_GUARD);
  if (guard || ((code === "57014" || code === "55P03") && currentCallDeadline()?.deadlineMs !== undefined)) return deadlineExceeded();
  const classified = classifyPostgresError(error);
  if (!classified) return error;
  if (options.detail && classified.kind === "unavailable" && error instanceof Error && error !== classified) {
    return new SessiondError("unavailable", `${classified.message}: ${error.message}`, { cause: error });
  }
  return classified;
}
