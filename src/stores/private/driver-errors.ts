import { SessiondError } from "../../core/errors.js";

/** Socket-level failures every driver passes on from Node: the server is gone or unreachable. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The `code` property of a driver error as a string ("" when it has none). */
export function errorCode(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === undefined || code === null ? "" : String(code);
}

/** Whether a driver error is a lost, refused or timed-out socket. */
export function isSocketFailure(error: unknown): boolean {
  return SOCKET_CODES.has(errorCode(error));
}

/**
 * UNAVAILABLE for an outage of `backend`: the request may succeed when
 * retried with backoff, so the message says so. `reason` is a short
 * classification (an error code), never a query or a value.
 */
export function storeUnavailable(backend: string, reason: string, cause: unknown): SessiondError {
  return new SessiondError("unavailable", `store: ${backend} is unavailable (${reason}); retry with backoff`, { cause });
}

/** ABORTED for a transaction the database gave up after the store's own retries. */
export function storeConflict(backend: string, reason: string, cause: unknown): SessiondError {
  return new SessiondError("aborted", `store: ${backend} aborted the transaction (${reason}) after retries; retry`, { cause });
}
