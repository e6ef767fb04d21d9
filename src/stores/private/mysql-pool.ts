import type { PoolConnection as CoreConnection } from "mysql2";
import { createPool, type Pool, type PoolConnection } from "mysql2/promise";
import type { PoolStats } from "../store.js";
import type { MysqlSettings } from "./mysql-options.js";

/**
 * Session settings of every connection: UTC for DATETIME arithmetic, and
 * strict mode so that a value that does not fit fails instead of being
 * truncated (the same list on MySQL 8 and MariaDB).
 */
const SESSION_SETUP =
  "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/** The parts of mysql2's pool that it does not type; read for figures and idle sweeps only. */
interface PoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number; toArray(): CoreConnection[] };
  _connectionQueue: { length: number };
}

/**
 * A mysql2 pool with the connection lifecycle sessiond promises: utf8mb4,
 * UTC and strict mode on every connection, idle connections closed after
 * `idle_timeout`, and connections older than `max_lifetime` retired.
 *
 * mysql2 has no maximum lifetime, so it is approximated: a connection past
 * it is closed when it is next taken from the pool or found idle by the
 * once-a-second sweep, never in the middle of a transaction. mysql2's own
 * idle reaping only runs with maxIdle below the limit, so the sweep does
 * that too.
 */
export class MysqlPool {
  private readonly pool: Pool;
  private readonly born = new WeakMap<CoreConnection, number>();
  private readonly sweep: NodeJS.Timeout;

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
      connection.query(SESSION_SETUP, (error) => {
        if (error) connection.destroy();
      });
    });
    this.sweep = setInterval(() => this.closeStale(), 1000);
    this.sweep.unref();
  }

  /** A connection for one unit of work; release it (or destroy it when broken) afterwards. */
  async acquire(): Promise<PoolConnection> {
    for (;;) {
      const connection = await this.pool.getConnection();
      if (!this.expired(connection.connection as unknown as CoreConnection, Date.now())) return connection;
      connection.destroy();
    }
  }

  /** Connections open, idle and waited for. */
  stats(): PoolStats {
    const core = this.pool.pool as unknown as PoolInternals;
    return { total: core._allConnections.length, idle: core._freeConnections.length, waiting: core._connectionQueue.length };
  }

  /** Closes every connection; pending work fails. */
  async close(): Promise<void> {
    clearInterval(this.sweep);
    await this.pool.end();
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
