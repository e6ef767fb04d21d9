import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type Event, type EventActions as EventActionsMessage, type Session, SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { jsonObjectFromEntries } from "../core/json-object.js";
import { mergedState } from "../core/state.js";
import type { AssignedEvent, EventActions, SessionStatus as DomainStatus, SessionView, StoredEvent } from "../core/types.js";

/**
 * Mapping between protobuf messages and domain values. Messages are built as
 * object literals with every field set: on the streaming hot path this avoids
 * the copy that `create()` makes for each event.
 */

const statusToProto: Record<DomainStatus, SessionStatus> = {
  active: SessionStatus.ACTIVE,
  completed: SessionStatus.COMPLETED,
  failed: SessionStatus.FAILED,
};

/** Domain status of a proto status, or undefined for UNSPECIFIED and unknown values. */
export function statusFromProto(status: SessionStatus): DomainStatus | undefined {
  switch (status) {
    case SessionStatus.ACTIVE:
      return "active";
    case SessionStatus.COMPLETED:
      return "completed";
    case SessionStatus.FAILED:
      return "failed";
    default:
      return undefined;
  }
}

/** A Timestamp for integer microseconds since the epoch. */
export function timestampFromUs(us: number): Timestamp {
  const seconds = Math.floor(us / 1_000_000);
  return {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(seconds),
    nanos: (us - seconds * 1_000_000) * 1000,
  };
}

/** Integer microseconds since the epoch for a Timestamp (sub-microsecond digits dropped). */
export function timestampToUs(ts: Timestamp): number {
  return Number(ts.seconds) * 1_000_000 + Math.floor(ts.nanos / 1000);
}

/** The session message a client sees: merged state, no events unless given. */
export function sessionToProto(view: SessionView, events: StoredEvent[] = []): Session {
  const s = view.session;
  const key = { appName: s.appName, userId: s.userId, sessionId: s.id };
  return {
    $typeName: "sessiond.v1.Session",
    id: s.id,
    appName: s.appName,
    userId: s.userId,
    agentId: s.agentId,
    status: statusToProto[s.status],
    state: mergedState(view),
    metadata: s.metadata,
    createTime: timestampFromUs(s.createTimeUs),
    updateTime: timestampFromUs(s.updateTimeUs),
    lastSequence: BigInt(s.lastSequence),
    events: events.map((e) => eventToProto(e, key.sessionId)),
    forkedFrom: s.forkedFrom
      ? {
          $typeName: "sessiond.v1.ForkOrigin",
          sessionId: s.forkedFrom.sessionId,
          userId: s.forkedFrom.userId,
          sequence: BigInt(s.forkedFrom.sequence),
        }
      : undefined,
  };
}

/** A stored event as a message. */
export function eventToProto(e: StoredEvent, sessionId: string): Event {
  return {
    $typeName: "sessiond.v1.Event",
    id: e.id,
    sessionId,
    sequence: BigInt(e.sequence),
    invocationId: e.invocationId,
    agentId: e.agentId,
    author: e.author,
    branch: e.branch,
    timestamp: timestampFromUs(e.timestampUs),
    content: e.content ?? undefined,
    actions: e.actions ? actionsToProto(e.actions) : undefined,
    metadata: e.metadata ?? undefined,
    partial: false,
    turnComplete: e.turnComplete,
    errorCode: e.errorCode,
    errorMessage: e.errorMessage,
    longRunningToolIds: e.longRunningToolIds,
    interrupted: e.interrupted,
  };
}

/** Only what the server assigned: the reply to an append. */
export function assignedToProto(a: AssignedEvent, sessionId: string): Event {
  const event = emptyEvent();
  event.id = a.id;
  event.sessionId = sessionId;
  event.sequence = BigInt(a.sequence);
  event.timestamp = timestampFromUs(a.timestampUs);
  return event;
}

/** An event message with every field at its default (as `create(EventSchema)` makes it, without its cost). */
export function emptyEvent(): Event {
  return {
    $typeName: "sessiond.v1.Event",
    id: "",
    sessionId: "",
    sequence: 0n,
    invocationId: "",
    agentId: "",
    author: "",
    branch: "",
    timestamp: undefined,
    content: undefined,
    actions: undefined,
    metadata: undefined,
    partial: false,
    turnComplete: false,
    errorCode: "",
    errorMessage: "",
    longRunningToolIds: [],
    interrupted: false,
  };
}

/** Domain actions of a message; fields the message leaves empty are omitted. */
export function actionsFromProto(a: EventActionsMessage, stateDelta: EventActions["stateDelta"]): EventActions {
  const out: EventActions = {};
  if (stateDelta) out.stateDelta = stateDelta;
  const artifacts = Object.entries(a.artifactDelta);
  if (artifacts.length > 0) out.artifactDelta = jsonObjectFromEntries(artifacts.map(([k, v]) => [k, Number(v)]));
  if (a.transferToAgent) out.transferToAgent = a.transferToAgent;
  if (a.escalate !== undefined) out.escalate = a.escalate;
  if (a.skipSummarization !== undefined) out.skipSummarization = a.skipSummarization;
  if (a.custom) out.custom = a.custom;
  return out;
}

function actionsToProto(a: EventActions): EventActionsMessage {
  const artifactDelta = jsonObjectFromEntries(Object.entries(a.artifactDelta ?? {}).map(([k, v]) => [k, BigInt(v)]));
  return {
    $typeName: "sessiond.v1.EventActions",
    stateDelta: a.stateDelta,
    artifactDelta,
    transferToAgent: a.transferToAgent ?? "",
    escalate: a.escalate,
    skipSummarization: a.skipSummarization,
    custom: a.custom,
    rewind: a.rewind
      ? {
          $typeName: "sessiond.v1.RewindAction",
          targetSequence: BigInt(a.rewind.targetSequence),
          lastRewoundSequence: BigInt(a.rewind.lastRewoundSequence),
          beforeInvocationId: a.rewind.beforeInvocationId ?? "",
        }
      : undefined,
  };
}
