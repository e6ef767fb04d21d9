// Node entry (`sessiond/client`): everything of the browser entry, with a
// createSessiondClient that also builds connect-node transports from a URL.
export {
  type AppendEventResult,
  type AppendEventsResult,
  type AppendOptions,
  type CreateSessionInit,
  type EventFilterInit,
  type EventInit,
  type EventsOptions,
  type FollowItem,
  type FollowOptions,
  type GetSessionInit,
  type ListSessionsInit,
  type SessionRef,
  type SessiondClient,
  type TransportClientOptions,
} from "./sessiond-client.js";
export { createSessiondClient, nodeTransport, type NodeClientOptions, type Protocol } from "./node.js";
export { bearerToken, withBearerToken, type TokenSource } from "./bearer-token.js";
export * from "./types.js";
