import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The errors RemoteSessionService throws where ADK's session services throw
 * one, with ADK's messages; `cause` is the server's ConnectError (its `code`
 * is the gRPC status).
 */

/** Creating a session whose id is taken (Python ADK's AlreadyExistsError). */
export class AlreadyExistsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AlreadyExistsError";
  }
}

/** Appending to a session that does not exist (ADK's SessionNotFoundError). */
export class SessionNotFoundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SessionNotFoundError";
  }
}

/** The message of ADK's StaleSessionError. */
export const STALE_SESSION_MESSAGE =
  "The session has been modified in storage since it was loaded. Please reload the session before appending more events.";

/**
 * Appending through a session object that is behind the stored session: another
 * writer appended since it was loaded (ADK's StaleSessionError; Python ADK
 * raises a ValueError with this message). Nothing was stored; reload the
 * session with getSession and append again.
 */
export class StaleSessionError extends Error {
  constructor(message: string = STALE_SESSION_MESSAGE, options?: ErrorOptions) {
    super(message, options);
    this.name = "StaleSessionError";
  }
}

/** The gRPC status of a thrown value, or undefined when it is not a server error. */
export function statusOf(error: unknown): Code | undefined {
  return error instanceof ConnectError ? error.code : undefined;
}
