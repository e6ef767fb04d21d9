import { SessiondError } from "../../core/errors.js";
import { storeUnavailable } from "./driver-errors.js";

/**
 * Primary SQLite result codes of a database that cannot serve now: busy or
 * locked past busy_timeout (5, 6), read-only (8), I/O errors (10), a full
 * disk (13), a file that cannot be opened (14) and a lock protocol error (15).
 */
const UNAVAILABLE_CODES: Record<number, string> = {
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
};

/**
 * Classifies a node:sqlite error by its (extended) result code: a database
 * that is locked, read-only, failing I/O or full is UNAVAILABLE, as is a
 * database closed while the server drains. Anything else stays unclassified.
 */
export function classifySqliteError(error: unknown): SessiondError | undefined {
  if (error instanceof SessiondError) return error;
  if (!(error instanceof Error)) return undefined;
  const errcode = (error as { errcode?: unknown }).errcode;
  if (typeof errcode === "number") {
    const name = UNAVAILABLE_CODES[errcode & 0xff];
    return name ? storeUnavailable("SQLite", name, error) : undefined;
  }
  if ((error as { code?: unknown }).code === "ERR_INVALID_STATE" && /database is not open/i.test(error.message)) {
    return storeUnavailable("SQLite", "closed", error);
  }
  return undefined;
}
