import { SessiondError } from "../../core/errors.js";
import { errorCode, isSocketFailure, storeConflict, storeUnavailable } from "./driver-errors.js";

/**
 * mysql2's codes for a connection it lost or cannot use any more, and for
 * a pool that is closed or whose queue is full.
 */
const DRIVER_CONNECTION_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR",
  "PROTOCOL_ENQUEUE_AFTER_QUIT",
  "PROTOCOL_ENQUEUE_HANDSHAKE_TWICE",
  "POOL_CLOSED",
  "POOL_ENQUEUELIMIT",
]);

/**
 * Server error numbers of a server that cannot serve now: too many
 * connections (1040, 1203), shutting down (1053), connection killed (1927),
 * read-only (1290, 1836), query interrupted or over max_statement_time
 * (1317, 1969, 3024), a lock wait timeout after the store's retries (1205),
 * and the client-side "server has gone away"/"lost connection" (2006, 2013).
 */
const SERVER_UNAVAILABLE = new Set([1040, 1203, 1053, 1927, 1290, 1836, 1317, 1969, 3024, 1205, 2002, 2003, 2006, 2013, 2055]);
const ER_LOCK_DEADLOCK = 1213;
const ER_CHECKREAD = 1020;

/** Messages of mysql2 failures that carry no code. */
const CLOSED_MESSAGE = /closed state|Pool is closed|Connection lost|Queue limit reached|connection is in closed/i;

/**
 * Classifies a mysql2 error: lost, refused or closed connections, a closed
 * or full pool, a server shutting down, read-only or out of connections,
 * and statement or lock timeouts are UNAVAILABLE; a deadlock still lost
 * after the store's retries is ABORTED. Anything else stays unclassified.
 */
export function classifyMysqlError(error: unknown): SessiondError | undefined {
  if (error instanceof SessiondError) return error;
  const code = errorCode(error);
  const errno = typeof error === "object" && error !== null ? Number((error as { errno?: unknown }).errno) : NaN;
  if (errno === ER_LOCK_DEADLOCK || errno === ER_CHECKREAD) return storeConflict("MySQL", code || String(errno), error);
  if (
    DRIVER_CONNECTION_CODES.has(code) ||
    isSocketFailure(error) ||
    SERVER_UNAVAILABLE.has(errno) ||
    (error instanceof Error && code === "" && CLOSED_MESSAGE.test(error.message))
  ) {
    return storeUnavailable("MySQL", code || (Number.isNaN(errno) ? "connection closed" : String(errno)), error);
  }
  return undefined;
}
