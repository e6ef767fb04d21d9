import { SessiondError } from "../../core/errors.js";
import { errorCode, isSocketFailure, storeConflict, storeUnavailable } from "./driver-errors.js";

/** postgres.js's own codes for connections it lost, closed or could not open. */
const DRIVER_CONNECTION_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);

/**
 * SQLSTATEs of a server that cannot serve now: shutting down or restarting
 * (57P01–57P03), out of connections or resources (53xxx), read-only (a hot
 * standby or a read-only transaction, 25006), a lock not obtained within
 * lock_timeout (55P03) and a statement cancelled by statement_timeout
 * (57014), which the error boundary turns into DEADLINE_EXCEEDED when the
 * call's deadline is what ran out.
 */
const SERVER_UNAVAILABLE = new Set(["57P01", "57P02", "57P03", "25006", "55P03", "57014"]);

/**
 * Classifies a postgres.js error: connection failures (SQLSTATE class 08,
 * lost sockets, the driver's own connection codes) and a server that cannot
 * serve now are UNAVAILABLE; deadlocks and serialization failures ABORTED;
 * text PostgreSQL cannot store INVALID_ARGUMENT. Anything else is not an
 * outage and stays unclassified (undefined).
 */
export function classifyPostgresError(error: unknown): SessiondError | undefined {
  if (error instanceof SessiondError) return error;
  const code = errorCode(error);
  if (code === "22P05" || code === "22021") {
    return new SessiondError("invalid_argument", "request: contains text PostgreSQL cannot store (such as \\u0000)", { cause: error });
  }
  if (code === "40P01" || code === "40001") return storeConflict("PostgreSQL", code, error);
  if (
    DRIVER_CONNECTION_CODES.has(code) ||
    isSocketFailure(error) ||
    code.startsWith("08") ||
    code.startsWith("53") ||
    SERVER_UNAVAILABLE.has(code)
  ) {
    return storeUnavailable("PostgreSQL", code, error);
  }
  return undefined;
}
