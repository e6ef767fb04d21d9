import { SessiondError } from "../../core/errors.js";
import { type TableNames, tableNames } from "./sql.js";

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

/**
 * Parses `mysql://user:password@host:port/database?options`. The query
 * parameters are the store's own (see docs/stores.md); they are removed here and
 * never reach the driver, and an unknown one is an error rather than
 * silently ignored.
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
  const params = parsed.searchParams;
  for (const name of params.keys()) {
    if (!PARAMETERS.includes(name)) throw bad(`has unknown parameter ${JSON.stringify(name)}; known: ${PARAMETERS.join(", ")}`);
  }
  const tablePrefix = params.get("table_prefix") ?? "";
  const limit = params.get("connection_limit") ?? params.get("max");
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    tables: tableNames(tablePrefix),
    tablePrefix,
    connectionLimit: limit === null ? 10 : integer(params.has("connection_limit") ? "connection_limit" : "max", limit, 1),
    idleTimeoutMs: seconds("idle_timeout", params.get("idle_timeout"), 60),
    maxLifetimeMs: seconds("max_lifetime", params.get("max_lifetime"), 0),
    tls: tlsMode(params.get("ssl")),
    autoMigrate: flag("auto_migrate", params.get("auto_migrate")),
  };
}

function bad(problem: string): SessiondError {
  return new SessiondError("invalid_argument", `store: mysql URL ${problem}`);
}

function integer(name: string, value: string, min: number): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw bad(`parameter ${name} must be an integer of at least ${min}, not ${JSON.stringify(value)}`);
  }
  return n;
}

function seconds(name: string, value: string | null, fallback: number): number {
  return (value === null ? fallback : integer(name, value, 0)) * 1000;
}

function tlsMode(value: string | null): MysqlSettings["tls"] {
  switch (value) {
    case null:
    case "false":
      return "off";
    case "true":
      return "verify";
    case "required":
      return "required";
    default:
      throw bad(`parameter ssl must be true, required or false, not ${JSON.stringify(value)}`);
  }
}

function flag(name: string, value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw bad(`parameter ${name} must be true or false, not ${JSON.stringify(value)}`);
}
