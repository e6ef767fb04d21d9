import { createHash } from "node:crypto";
import type { FieldPacket, PoolConnection as CoreConnection, ResultSetHeader } from "mysql2";
import { createPool, type Pool, type PoolConnection as Connection } from "mysql2/promise";
import { SessiondError } from "../../core/errors.js";
import { callBudgetMs, deadlineExceeded, runWork, type Row, type SqlDriver, type SqlResult, type SqlTx, type TxMode } from "../sql/driver.js";
import type { PoolStats } from "../store.js";
import type { MysqlSettings } from "./mysql-options.js";

/** Server error numbers the store reacts to. */
export const ER_DUP_ENTRY = 1062;
export const ER_NO_SUCH_TABLE = 1146;
export const ER_BAD_DB_ERROR = 1049;
/** Seconds a migrator waits for another one to finish. */
const LOCK_WAIT_SECONDS = 60;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;
/** MariaDB's max_statement_time and MySQL's max_execution_time ran out. */
const ER_STATEMENT_TIMEOUT = new Set([1969, 3024]);
/**
 * Tries of a transaction before the error reaches the caller: a lost
 * deadlock is cheap to retry; a lock wait timeout has already waited the
 * server's innodb_lock_wait_timeout, so it gets one more try.
 */
const MAX_ATTEMPTS: Record<number, number> = { [ER_LOCK_DEADLOCK]: 6, [ER_LOCK_WAIT_TIMEOUT]: 2 };

/**
 * Session settings of every connection, whatever the server's defaults:
 * UTC for DATETIME arithmetic; strict mode, so that a value that does not
 * fit fails instead of being truncated; REPEATABLE READ, so that a read
 * transaction sees one snapshot. (The isolation variable has different
 * names on MySQL 8 and MariaDB 10.11, hence its own statement.)
 */
const SESSION_SETUP = [
  "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
  "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
];

/** The parts of mysql2's pool that it does not type; read for figures and idle sweeps only. */
interface PoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number; toArray(): CoreConnection[] };
  _connectionQueue: { length: number };
}

/**
 * The SQL store's driver for MySQL and MariaDB: a mysql2 pool with the
 * connection lifecycle sessiond promises, and the transactions run on it. Every connection gets utf8mb4, UTC and strict
 * mode; idle connections close after `idle_timeout`; connections older than
 * `max_lifetime` are retired.
 *
 * mysql2 has no maximum lifetime, so it is approximated: a connection past
 * it is closed when it is next taken from the pool or found idle by the
 * once-a-second sweep, never in the middle of a transaction. mysql2's own
 * idle reaping only runs with maxIdle below the limit, so the sweep does
 * that too.
 */
export class MysqlDriver implements SqlDriver {
  private readonly pool: Pool;
  private readonly born = new WeakMap<CoreConnection, number>();
  private readonly sweep: NodeJS.Timeout;
  private closed = false;
  /** Connections whose timeouts a call bounded (see bound). */
  private readonly boundConnections = new WeakSet<CoreConnection>();
  /** Which server answers: their statement timeouts differ. Set once the store knows. */
  flavor: "mysql" | "mariadb" = "mysql";

  constructor(private readonly settings: MysqlSettings) {
    this.pool = createPool({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      charset: "utf8mb4",
      ssl: settings.tls === "off" ? undefined : { rejectUnauthorized: settings.tls === "verify" },
      connectionLimit: settings.connectionLimit,
      maxIdle: settings.connectionLimit,
      // Keeps the session settings above; a reset would drop them.
      resetOnRelease: false,
      enableKeepAlive: true,
      supportBigNumbers: true,
    });
    this.pool.pool.on("connection", (connection: CoreConnection) => {
      this.born.set(connection, Date.now());
      for (const statement of SESSION_SETUP) {
        connection.query(statement, (error) => {
          if (error) connection.destroy();
        });
      }
    });
    this.sweep = setInterval(() => this.closeStale(), 1000);
    this.sweep.unref();
  }

  /** A connection for one unit of work; release it (or destroy it when broken) afterwards. */
  private async acquire(): Promise<Connection> {
    for (;;) {
      const connection = await this.pool.getConnection();
      if (!this.expired(connection.connection as unknown as CoreConnection, Date.now())) return connection;
      connection.destroy();
    }
  }

  /** Runs one statement outside a transaction (it commits on its own). */
  async run(sql: string, args: unknown[] = []): Promise<SqlResult> {
    const budget = callBudgetMs();
    const c = await this.acquire();
    try {
      await this.bound(c, budget);
      return await execute(c, sql, args);
    } catch (error) {
      throw deadlineError(error, budget) ?? error;
    } finally {
      c.release();
    }
  }

  /**
   * Runs `work` in a transaction on one connection. Reads get a consistent
   * snapshot. A transaction that loses a deadlock or times out waiting for
   * a lock has been rolled back, so it is run again, a bounded number of
   * times with growing random pauses.
   */
  async transaction<T>(mode: TxMode, work: (tx: SqlTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(work, mode);
      } catch (error) {
        // Under a deadline a lock wait timeout is the deadline itself (see bound), not worth a retry.
        if (attempt >= (MAX_ATTEMPTS[errno(error) ?? 0] ?? 1)) throw error;
        callBudgetMs();
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));
      }
    }
  }

  /**
   * Runs schema changes under a named server lock (GET_LOCK, one per
   * database and table prefix), which keeps concurrent migrators, such as
   * several servers starting at once, apart; it is released when the
   * connection ends, should this process die midway. DDL commits
   * implicitly here, so there is no transaction.
   */
  async exclusive(work: (tx: SqlTx) => Promise<void>): Promise<void> {
    const scope = createHash("sha256").update(`${this.settings.database}\u0000${this.settings.tablePrefix}`).digest("hex");
    const lock = `sessiond_migrate_${scope.slice(0, 40)}`;
    const c = await this.acquire();
    try {
      const { rows } = await execute(c, "SELECT GET_LOCK(?, ?) AS got", [lock, LOCK_WAIT_SECONDS]);
      if (Number(rows[0]!.got) !== 1) {
        throw new SessiondError("unavailable", `store: another process held the schema migration lock for ${LOCK_WAIT_SECONDS} s; try again`);
      }
      try {
        await work({ run: (sql, args = []) => execute(c, sql, args) });
      } finally {
        await c.query("SELECT RELEASE_LOCK(?)", [lock]);
      }
    } finally {
      c.release();
    }
  }

  async ping(): Promise<void> {
    await this.run("SELECT 1");
  }

  /** Connections open, idle and waited for. */
  poolStats(): PoolStats {
    const core = this.pool.pool as unknown as PoolInternals;
    return { total: core._allConnections.length, idle: core._freeConnections.length, waiting: core._connectionQueue.length };
  }

  /** Closes every connection; pending work fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    await this.pool.end();
  }

  private async attempt<T>(work: (tx: SqlTx) => Promise<T>, mode: TxMode): Promise<T> {
    const budget = callBudgetMs();
    const c = await this.acquire();
    let healthy = true;
    try {
      await this.bound(c, budget);
      await c.query(mode === "read" ? "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY" : "START TRANSACTION");
      const result = await runWork((sql, args) => execute(c, sql, args), work);
      // A write whose deadline passed while it ran is rolled back, not committed.
      if (budget !== undefined) callBudgetMs();
      await c.query("COMMIT");
      return result;
    } catch (error) {
      await c.query("ROLLBACK").catch(() => (healthy = false));
      throw deadlineError(error, budget) ?? error;
    } finally {
      if (healthy) c.release();
      else c.destroy();
    }
  }

  /**
   * Bounds the connection's statements and lock waits by the call's time
   * left, or returns them to the server's defaults after a bounded call.
   * MariaDB's max_statement_time covers lock waits too; MySQL's
   * max_execution_time covers only SELECTs, so there innodb_lock_wait_timeout
   * (whole seconds) bounds the waits.
   */
  private async bound(c: Connection, budget: number | undefined): Promise<void> {
    const core = c.connection as unknown as CoreConnection;
    if (budget === undefined && !this.boundConnections.has(core)) return;
    const timeout = this.flavor === "mariadb" ? "max_statement_time" : "max_execution_time";
    if (budget === undefined) {
      await c.query(`SET SESSION ${timeout} = DEFAULT, innodb_lock_wait_timeout = DEFAULT`);
      this.boundConnections.delete(core);
      return;
    }
    this.boundConnections.add(core);
    const value = this.flavor === "mariadb" ? budget / 1000 : budget;
    await c.query(`SET SESSION ${timeout} = ?, innodb_lock_wait_timeout = ?`, [value, Math.max(1, Math.ceil(budget / 1000))]);
  }

  private expired(connection: CoreConnection, now: number): boolean {
    const { maxLifetimeMs } = this.settings;
    return maxLifetimeMs > 0 && now - (this.born.get(connection) ?? now) >= maxLifetimeMs;
  }

  private closeStale(): void {
    const now = Date.now();
    const idleTimeoutMs = this.settings.idleTimeoutMs;
    const free = (this.pool.pool as unknown as PoolInternals)._freeConnections.toArray();
    for (const connection of free) {
      const idleFor = now - (connection as CoreConnection & { lastActiveTime: number }).lastActiveTime;
      if ((idleTimeoutMs > 0 && idleFor >= idleTimeoutMs) || this.expired(connection, now)) connection.destroy();
    }
  }
}

/** The protocol's column types of VARBINARY and BINARY (VAR_STRING, STRING; VARCHAR and CHAR too, which arrive as strings). */
const BINARY_STRING_TYPES = new Set([0xfd, 0xfe]);

/**
 * Runs a statement; rows of a SELECT have their VARBINARY columns
 * (identifiers and labels, UTF-8) decoded to strings. BLOB columns (the
 * encoded tails) stay bytes.
 */
async function execute(c: Connection, sql: string, args: unknown[]): Promise<SqlResult> {
  const [result, fields] = (await c.query(sql, args)) as unknown as [Row[] | ResultSetHeader, FieldPacket[] | undefined];
  if (!Array.isArray(result)) return { rows: [], changes: result.affectedRows };
  const textual = (fields ?? []).filter((f) => BINARY_STRING_TYPES.has(f.columnType ?? f.type ?? 0)).map((f) => f.name);
  for (const row of result) {
    for (const name of textual) {
      const value = row[name];
      if (Buffer.isBuffer(value)) row[name] = value.toString("utf8");
    }
  }
  return { rows: result, changes: 0 };
}

/** The server's error number of a driver error, if it has one. */
export function errno(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "errno" in error ? Number(error.errno) : undefined;
}

/** deadline_exceeded for a statement or lock timeout of a call bounded by its deadline; undefined otherwise. */
function deadlineError(error: unknown, budget: number | undefined): Error | undefined {
  if (budget === undefined) return undefined;
  const code = errno(error) ?? 0;
  return ER_STATEMENT_TIMEOUT.has(code) || code === ER_LOCK_WAIT_TIMEOUT ? deadlineExceeded() : undefined;
}
