import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  AppendEventRequestSchema,
  AppendEventsRequestSchema,
  GetEventsRequestSchema,
  GetSessionRequestSchema,
  SessionService,
} from "../gen/sessiond/v1/session_service_pb.js";
import { echoMethod } from "./echo-service.js";
import { sessiondEvent } from "./events.js";
import { countField, frameMessage, grpcPath, type LeanClient, subMessage } from "./lean-client.js";

/**
 * SessionService calls through a {@link LeanClient}: requests are framed up
 * front by the `*Frames` functions, so a timed call only sends bytes and
 * reads the answer's tags.
 */

/** Session coordinates of a call. */
export interface SessionKey {
  appName: string;
  userId: string;
  sessionId: string;
}

const APPEND_EVENT = grpcPath(SessionService, "AppendEvent");
const APPEND_EVENTS = grpcPath(SessionService, "AppendEvents");
const GET_SESSION = grpcPath(SessionService, "GetSession");
const GET_EVENTS = grpcPath(SessionService, "GetEvents");
const ECHO = `/${echoMethod.parent.typeName}/${echoMethod.name}`;

/** Framed AppendEvent requests of events `first` … `first + count - 1`. */
export function appendEventFrames(key: SessionKey, first: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => frameMessage(AppendEventRequestSchema, { ...key, event: sessiondEvent(first + k) }));
}

/** Framed AppendEvents requests of `calls` batches of `size` consecutive events. */
export function appendEventsFrames(key: SessionKey, calls: number, size: number): Uint8Array[] {
  return Array.from({ length: calls }, (_, c) =>
    frameMessage(AppendEventsRequestSchema, { ...key, events: Array.from({ length: size }, (_, k) => sessiondEvent(c * size + k)) }),
  );
}

/** Framed echo requests carrying the events AppendEvent would. */
export function echoFrames(first: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => frameMessage(echoMethod.input, sessiondEvent(first + k)));
}

/** AppendEvent; resolves when answered OK. */
export function leanAppendEvent(client: LeanClient, frame: Uint8Array): Promise<Uint8Array> {
  return client.unary(APPEND_EVENT, frame);
}

/** AppendEvents; resolves when answered OK. */
export function leanAppendEvents(client: LeanClient, frame: Uint8Array): Promise<Uint8Array> {
  return client.unary(APPEND_EVENTS, frame);
}

/** The echo call. */
export function leanEcho(client: LeanClient, frame: Uint8Array): Promise<Uint8Array> {
  return client.unary(ECHO, frame);
}

/** A framed GetSession request of the whole session. */
export function getSessionFrame(key: SessionKey): Uint8Array {
  return frameMessage(GetSessionRequestSchema, key);
}

/** GetSession; resolves with the number of events the answer holds (Session.events is field 11), counted by tag. */
export async function leanGetSession(client: LeanClient, frame: Uint8Array): Promise<number> {
  const response = await client.unary(GET_SESSION, frame);
  const session = subMessage(response, 1);
  return session === undefined ? 0 : countField(session, 11);
}

/** A framed GetEvents request. */
export function getEventsFrame(request: MessageInitShape<typeof GetEventsRequestSchema>): Uint8Array {
  return frameMessage(GetEventsRequestSchema, request);
}

/** GetEvents; resolves with the number of events streamed (GetEventsResponse.events is field 1), counted by tag. */
export async function leanGetEvents(client: LeanClient, frame: Uint8Array): Promise<number> {
  let events = 0;
  await client.serverStream(GET_EVENTS, frame, (message) => {
    events += countField(message, 1);
  });
  return events;
}
