/**
 * Google ADK integration, a separate entry point (`sessiond/adk`) so that
 * applications without `@google/adk` never load it.
 */
export { RemoteSessionService } from "./remote-session-service.js";
export type { GetUserStateRequest, RemoteSessionServiceOptions, RewindRequest } from "./remote-session-service.js";
export { AlreadyExistsError, SessionNotFoundError, STALE_SESSION_MESSAGE, StaleSessionError } from "./errors.js";
export { EXACT_KEY, fromRemoteEvent, toRemoteEvent } from "./event-mapping.js";
