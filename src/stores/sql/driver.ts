import { SessiondError } from "../../core/errors.js";
import { remainingCallMs } from "../call-deadline.js";
import type { PoolStats } from "../store.js";

/** A result row by column name. */
export type Row = Record<string, unknown>;

/** What a statement returned: its rows (none for most writes) and how many rows it changed. */
export interface SqlResult {
  rows: Row[];
  changes: number;
}

/** Statements run inside one transaction. */
export interface SqlTx {
  /**
   * Runs one statement with `?` placeholders. Calls made without awaiting
   * the previous one may be sent together (PostgreSQL pipelines them).
   * `last` says no statement follows and nothing after it fails the work,
   * so the driver may send COMMIT right behind it (PostgreSQL does: one
   * round trip less).
   */
  run(sql: string, args?: unknown[], options?: { last?: boolean }): Promise<SqlResult>;
}

/**
 * Runs a transaction's work on a {@link SqlTx} over `run`, and resolves or
 * throws only once every statement it issued has settled: one the work did
 * not wait for still decides whether the transaction commits, and nothing
 * is still running when the driver sends COMMIT or ROLLBACK. Statements
 * issued after the work ended, or after one marked `last`, are refused, as
 * they would run outside the transaction. `onLast` lets a driver send
 * COMMIT behind the statement marked `last`.
 */
export async function runWork<T>(
  run: (sql: string, args: unknown[]) => Promise<SqlResult>,
  work: (tx: SqlTx) => Promise<T>,
  onLast?: () => void,
): Promise<T> {
  const issued: Promise<SqlResult>[] = [];
  let open = true;
  const tx: SqlTx = {
    run: (sql, args = [], options) => {
      if (!open) return Promise.reject(new Error("sql: a statement issued after its transaction's last one"));
      const result = run(sql, args);
      issued.push(result);
      // Seen by the work or below; never an unhandled rejection when the work fails first.
      result.catch(() => {});
      if (options?.last) {
        open = false;
        onLast?.();
      }
      return result;
    },
  };
  try {
    const result = await work(tx);
    await Promise.all(issued);
    return result;
  } finally {
    open = false;
    await Promise.allSettled(issued);
  }
}

/**
 * "read": one consistent snapshot, no writes. "write": serialized with other
 * writers of the rows it locks (or, on SQLite, of the file).
 */
export type TxMode = "read" | "write";

/**
 * The few things the SQL store needs from a database driver. Every call is
 * bounded by the current RPC's deadline (see call-deadline.ts): it does not
 * start once the deadline has passed, bounds its statement and lock waits
 * by the time left, and rolls a write back instead of committing it late.
 */
export interface SqlDriver {
  /** Runs `work` in a transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(mode: TxMode, work: (tx: SqlTx) => Promise<T>): Promise<T>;
  /** Runs one statement on its own. */
  run(sql: string, args?: unknown[]): Promise<SqlResult>;
  /** Runs schema changes with no other process migrating the same tables at once. */
  exclusive(work: (tx: SqlTx) => Promise<void>): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  poolStats?(): PoolStats;
}

/**
 * Milliseconds the current store call may still take (its RPC's deadline),
 * undefined without a deadline. Throws deadline_exceeded once the deadline
 * has passed: drivers call it when a transaction starts, to bound its
 * statement and lock timeouts, and again before COMMIT, so a write whose
 * deadline passed is rolled back instead.
 */
export function callBudgetMs(): number | undefined {
  const left = remainingCallMs();
  if (left === 0) throw deadlineExceeded();
  return left;
}

/** The error of a store call stopped by its deadline; whatever it wrote was rolled back. */
export function deadlineExceeded(): SessiondError {
  return new SessiondError("deadline_exceeded", "store: the call's deadline passed before the store finished; nothing was written");
}
