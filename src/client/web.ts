// Browser entry (`sessiond/client/web`): the client over a transport you
// build with @connectrpc/connect-web, and the generated types. Imports no
// Node module, so bundlers can ship it as is.
export {
  createSessiondClient,
  type AppendEventResult,
  type AppendEventsResult,
  type AppendOptions,
  type CreateSessionInit,
  type EventFilterInit,
  type EventInit,
  type EventsOptions,
  type FollowItem,
  type FollowOptions,
  type ForkInit,
  type GetSessionInit,
  type ListAppsInit,
  type ListSessionsInit,
  type RewindOptions,
  type RewindResult,
  type RewindTarget,
  type SessionRef,
  type SessiondClient,
  type TransportClientOptions,
} from "./sessiond-client.js";
export { bearerToken, withBearerToken, type TokenSource } from "./bearer-token.js";
export * from "./types.js";
// Messages hold bigint fields, which JSON.stringify rejects: these print them.
export { toJson, toJsonString } from "@bufbuild/protobuf";
