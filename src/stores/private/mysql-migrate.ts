import { createHash } from "node:crypto";
import { SessiondError } from "../../core/errors.js";
import type { MysqlSettings } from "./mysql-options.js";
import { ER_NO_SUCH_TABLE, errno, type MysqlPool, rowsOf } from "./mysql-pool.js";
import { migrationsTableSql, mysqlMigrations } from "./mysql-schema.js";

/** Seconds a migrator waits for another one to finish. */
const LOCK_WAIT_SECONDS = 60;

/**
 * Applies the migrations the database lacks. A named server lock (GET_LOCK,
 * one per database and table prefix) keeps concurrent migrators, such as
 * several servers starting at once, apart; it is released when the
 * connection ends, should this process die midway.
 */
export async function migrateMysql(pool: MysqlPool, settings: MysqlSettings): Promise<void> {
  const t = settings.tables;
  const scope = createHash("sha256").update(`${settings.database}\u0000${settings.tablePrefix}`).digest("hex");
  const lock = `sessiond_migrate_${scope.slice(0, 40)}`;
  const c = await pool.acquire();
  try {
    const [got] = await rowsOf(c, "SELECT GET_LOCK(?, ?) AS got", [lock, LOCK_WAIT_SECONDS]);
    if (Number(got!.got) !== 1) {
      throw new SessiondError("unavailable", `store: another process held the schema migration lock for ${LOCK_WAIT_SECONDS} s; try again`);
    }
    try {
      await c.query(migrationsTableSql(t));
      const applied = new Set((await rowsOf(c, `SELECT version FROM ${t.migrations}`)).map((r) => Number(r.version)));
      for (const migration of mysqlMigrations(t)) {
        if (applied.has(migration.version)) continue;
        for (const statement of migration.statements) await c.query(statement);
        await c.query(`INSERT INTO ${t.migrations} (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`, [
          migration.version,
          migration.name,
        ]);
      }
    } finally {
      await c.query("SELECT RELEASE_LOCK(?)", [lock]);
    }
  } finally {
    c.release();
  }
}

/** Throws when the schema is missing or older than this version needs (auto_migrate off); not_found when there is none and `mustExist`. */
export async function requireMysqlSchema(pool: MysqlPool, settings: MysqlSettings, mustExist = false): Promise<void> {
  const t = settings.tables;
  const latest = Math.max(...mysqlMigrations(t).map((m) => m.version));
  let current = 0;
  try {
    const [row] = await pool.query(`SELECT MAX(version) AS v FROM ${t.migrations}`);
    current = Number(row?.v ?? 0);
  } catch (error) {
    if (errno(error) !== ER_NO_SUCH_TABLE) throw error;
  }
  if (current === 0 && mustExist) {
    const prefix = settings.tablePrefix ? ` with table prefix ${settings.tablePrefix}` : "";
    throw new SessiondError("not_found", `store: MySQL database ${JSON.stringify(settings.database)} holds no sessiond tables${prefix}`);
  }
  if (current < latest) {
    throw new SessiondError(
      "unavailable",
      `store: the MySQL schema is at version ${current}, this server needs ${latest} and auto-migration is off; run "sessiond migrate" first`,
    );
  }
}
