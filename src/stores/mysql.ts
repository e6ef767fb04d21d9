import { SessiondError } from "../core/errors.js";
import { ER_BAD_DB_ERROR, ER_DUP_ENTRY, errno, MysqlDriver } from "./private/mysql-driver.js";
import { parseMysqlUrl } from "./private/mysql-options.js";
import { mysqlSchema } from "./private/mysql-schema.js";
import type { SqlDialect } from "./sql/dialect.js";
import { utcDatetime } from "./sql/rows.js";
import { openSchema, type SqlOpenOptions } from "./sql/schema.js";
import { SqlStore } from "./sql/sql-store.js";
import type { PoolStats } from "./store.js";

/** Options of the MySQL store beside its URL. */
export type MysqlOptions = SqlOpenOptions;

/**
 * MySQL 8.0+ and MariaDB 10.11+ through mysql2's pool: the SQL store with
 * SQL both servers accept unchanged. Writers lock the session row (SELECT …
 * FOR UPDATE); transactions that lose a deadlock or a lock wait are retried
 * from the start. DATETIME(6) columns hold UTC and cross the wire as text
 * in both directions, so no JavaScript Date (milliseconds) sits in between.
 */
export class MysqlStore extends SqlStore {
  declare readonly poolStats: () => PoolStats;

  /** Connects to `mysql://user:password@host:port/database?options` (or `mariadb://`); see docs/stores.md for the options. */
  static async open(url: string, options: MysqlOptions = {}): Promise<MysqlStore> {
    const settings = parseMysqlUrl(url);
    const driver = new MysqlDriver(settings);
    let packetBytes = 4 * 1024 * 1024;
    const dialect: SqlDialect = {
      name: "mysql",
      tables: settings.tables,
      schema: mysqlSchema(settings),
      quote: (name) => `\`${name}\``,
      time: utcDatetime,
      timeOf: (column) => `TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${column})`,
      forUpdate: " FOR UPDATE",
      greatest: "GREATEST",
      jsonField: (column, key) => `JSON_EXTRACT(${column}, '$.${key}')`,
      // Expanded ORs rather than row comparisons: both servers use the (app_name, updated_at, user_id, id) index for them.
      rowValues: false,
      upsert: (_table, _keys, columns, larger) =>
        ` ON DUPLICATE KEY UPDATE ${[...columns.map((c) => `${c} = VALUES(${c})`), ...(larger ? [`${larger} = GREATEST(${larger}, VALUES(${larger}))`] : [])].join(", ")}`,
      // A no-op update skips the row; INSERT IGNORE would also turn errors such as truncation into warnings.
      insertIgnore: (column) => ` ON DUPLICATE KEY UPDATE ${column} = ${column}`,
      isDuplicate: (error) => errno(error) === ER_DUP_ENTRY,
      eventChunks: (rows) => packetChunks(rows, packetBytes / 2),
      // Fewer statements per replay: about 15% more events per second than 1,000-event reads.
      streamPageSize: 4000,
    };
    try {
      await openSchema(driver, dialect, options, settings.autoMigrate);
      const [server] = (await driver.run("SELECT @@max_allowed_packet AS bytes, VERSION() AS version")).rows;
      packetBytes = Number(server!.bytes);
      driver.flavor = String(server!.version).includes("MariaDB") ? "mariadb" : "mysql";
    } catch (error) {
      await driver.close();
      if (error instanceof SessiondError) throw error;
      // Driver messages name the cause (refused, unknown database, denied login) but never the password.
      const where = `MySQL database ${JSON.stringify(settings.database)} at ${settings.host}:${settings.port}`;
      if (options.mustExist && errno(error) === ER_BAD_DB_ERROR) throw new SessiondError("not_found", `store: ${where} does not exist`);
      throw new SessiondError("unavailable", `store: cannot open ${where}: ${(error as Error).message}`);
    }
    return new MysqlStore(driver, dialect);
  }
}

/**
 * Rows grouped into multi-row INSERTs: one statement for a usual batch (one
 * round trip instead of one per event), split only where a statement would
 * come near max_allowed_packet.
 */
function packetChunks(rows: unknown[][], budget: number): unknown[][][] {
  const chunks: unknown[][][] = [];
  let bytes = Infinity;
  for (const values of rows) {
    // Escaping at most doubles a string; 16 bytes cover each value's quotes and separators.
    const size = values.reduce<number>((n, v) => n + 16 + (typeof v === "string" ? 2 * Buffer.byteLength(v) : 0), 0);
    if (bytes + size > budget) {
      chunks.push([]);
      bytes = 0;
    }
    chunks.at(-1)!.push(values);
    bytes += size;
  }
  return chunks;
}
