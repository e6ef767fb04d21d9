/** Why an operation failed, independent of the wire protocol. */
export type ErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "aborted"
  | "failed_precondition"
  | "resource_exhausted"
  | "unavailable"
  | "deadline_exceeded"
  | "internal";

/**
 * A failure the API layer turns into a gRPC status. Messages name the field
 * or the session they are about, never the content of an event. A store
 * keeps the driver's error as `cause`: it goes to the server's log, never to
 * the client.
 */
export class SessiondError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SessiondError";
  }
}

/** INVALID_ARGUMENT naming the offending field. */
export function invalidArgument(field: string, problem: string): SessiondError {
  return new SessiondError("invalid_argument", `${field}: ${problem}`);
}

/** NOT_FOUND for a session key. */
export function sessionNotFound(key: { appName: string; userId: string; sessionId: string }): SessiondError {
  return new SessiondError(
    "not_found",
    `session ${JSON.stringify(key.sessionId)} not found for app ${JSON.stringify(key.appName)}, user ${JSON.stringify(key.userId)}`,
  );
}

/** ALREADY_EXISTS for a session key. */
export function sessionExists(key: { appName: string; userId: string; sessionId: string }): SessiondError {
  return new SessiondError(
    "already_exists",
    `session ${JSON.stringify(key.sessionId)} already exists for app ${JSON.stringify(key.appName)}, user ${JSON.stringify(key.userId)}`,
  );
}

/** ABORTED for an optimistic-concurrency conflict. */
export function sequenceConflict(expected: number, actual: number): SessiondError {
  return new SessiondError(
    "aborted",
    `expected_last_sequence: session is at sequence ${actual}, not ${expected}; reload and retry`,
  );
}
