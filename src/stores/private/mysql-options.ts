import { SessiondError } from "../../core/errors.js";
import { StoreUrlOptions } from "../url-options.js";
import { type TableNames, tableNames } from "../sql/rows.js";

/** Where and how to connect, and how the store behaves, read from a `mysql://` or `mariadb://` URL. */
export interface MysqlSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  tables: TableNames;
  tablePrefix: string;
  /** Most connections in the pool. */
  connectionLimit: number;
  /** Idle connections are closed after this long; 0 keeps them. */
  idleTimeoutMs: number;
  /** Connections older than this are closed instead of reused; 0 keeps them. */
  maxLifetimeMs: number;
  /** "verify": TLS checking the server's certificate; "required": TLS without the check; "off": plain. */
  tls: "verify" | "required" | "off";
  /** From `auto_migrate`; undefined when the URL does not say. */
  autoMigrate: boolean | undefined;
}

const PARAMETERS = ["table_prefix", "connection_limit", "max", "idle_timeout", "max_lifetime", "ssl", "auto_migrate"];
const TLS_MODES = { false: "off", "0": "off", true: "verify", "1": "verify", required: "required" } as const;

/**
 * Parses `mysql://user:password@host:port/database?options`. The query
 * parameters are the store's own (see docs/stores.md); they never reach the
 * driver, and an unknown one is an error rather than silently ignored.
 */
export function parseMysqlUrl(url: string): MysqlSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("is not a valid URL; expected mysql://user:password@host:3306/database");
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") {
    throw bad(`has scheme ${JSON.stringify(parsed.protocol)}; expected mysql: or mariadb:`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) throw bad("needs a database name as its path, e.g. mysql://root@127.0.0.1:3306/sessiond");
  const params = new StoreUrlOptions(parsed.searchParams, PARAMETERS);
  const tablePrefix = params.string("table_prefix") ?? "";
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    tables: tableNames(tablePrefix),
    tablePrefix,
    connectionLimit: params.integer("connection_limit", 1) ?? params.integer("max", 1) ?? 10,
    idleTimeoutMs: (params.integer("idle_timeout", 0) ?? 60) * 1000,
    maxLifetimeMs: (params.integer("max_lifetime", 0) ?? 0) * 1000,
    tls: TLS_MODES[params.choice("ssl", ["true", "false", "1", "0", "required"]) ?? "false"],
    autoMigrate: params.boolean("auto_migrate"),
  };
}

function bad(problem: string): SessiondError {
  return new SessiondError("invalid_argument", `store: mysql URL ${problem}`);
}
