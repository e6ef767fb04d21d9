// The generated messages, enums and service descriptor, re-exported so client
// code needs only one import.
export {
  type Session,
  SessionSchema,
  type Event,
  EventSchema,
  type EventActions,
  EventActionsSchema,
  SessionStatus,
  SessionStatusSchema,
} from "../../gen/sessiond/v1/session_pb.js";
export * from "../../gen/sessiond/v1/session_service_pb.js";
