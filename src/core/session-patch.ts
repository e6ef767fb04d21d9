import { sequenceConflict } from "./errors.js";
import { applyDelta } from "./state.js";
import type { ForkPlan, NewSession, SessionPatch, SessionRecord } from "./types.js";

/** The record a session starts as: active, no events, the session-scoped part of its initial state. */
export function newSessionRecord(input: NewSession): SessionRecord {
  return {
    appName: input.appName,
    userId: input.userId,
    id: input.id,
    agentId: input.agentId,
    status: "active",
    state: applyDelta({}, input.delta.session),
    metadata: input.metadata,
    createTimeUs: input.nowUs,
    updateTimeUs: input.nowUs,
    lastSequence: 0,
  };
}

/** The record a fork starts as: active, with the plan's state and lineage and one event per planned source event. */
export function forkedSessionRecord(plan: ForkPlan): SessionRecord {
  return {
    appName: plan.target.appName,
    userId: plan.target.userId,
    id: plan.target.sessionId,
    agentId: plan.agentId,
    status: "active",
    state: plan.state,
    metadata: plan.metadata,
    createTimeUs: plan.nowUs,
    updateTimeUs: plan.nowUs,
    lastSequence: plan.ranges.reduce((n, r) => n + r.last - r.first + 1, 0),
    forkedFrom: plan.forkedFrom,
  };
}

/**
 * The session after an update, for stores that read the row, change it and
 * write it back: checks expected_last_sequence, then applies the fields the
 * patch sets and the update time.
 */
export function patchSession(record: SessionRecord, patch: SessionPatch): SessionRecord {
  if (patch.expectedLastSequence !== undefined && patch.expectedLastSequence !== record.lastSequence) {
    throw sequenceConflict(patch.expectedLastSequence, record.lastSequence);
  }
  return {
    ...record,
    status: patch.status ?? record.status,
    metadata: patch.metadata ?? record.metadata,
    agentId: patch.agentId ?? record.agentId,
    updateTimeUs: patch.nowUs,
  };
}
