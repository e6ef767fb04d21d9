import { SessiondError } from "../core/errors.js";
import { checkJson, keyPath, textProblem } from "../core/json-check.js";
import { limits } from "../core/limits.js";
import type { ForkOrigin, JsonObject, SessionRecord, SessionStatus, StoredEvent } from "../core/types.js";

/**
 * Checks of the records an import reads: the types the stores expect, and
 * the same rules on JSON values, text and times as the API applies, since a
 * file may have been edited or written by hand since it was exported.
 */

const STATUSES = new Set<SessionStatus>(["active", "completed", "failed"]);

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A state or metadata object. */
export function checkState(where: string, value: unknown, field = "state"): JsonObject {
  if (!isObject(value)) throw inputError(where, `${field} must be an object`);
  return checkJson(`${where}: ${field}`, value as JsonObject);
}

/** A session line's record. */
export function checkRecord(where: string, value: unknown): SessionRecord {
  if (!isObject(value)) throw inputError(where, "session must be an object");
  const status = value.status as SessionStatus;
  if (!STATUSES.has(status)) throw inputError(where, `session.status must be active, completed or failed`);
  return {
    appName: text(where, "session.appName", value.appName, false),
    userId: text(where, "session.userId", value.userId, false),
    id: text(where, "session.id", value.id, false),
    agentId: text(where, "session.agentId", value.agentId ?? ""),
    status,
    state: checkState(where, value.state, "session.state"),
    metadata: checkState(where, value.metadata ?? {}, "session.metadata"),
    createTimeUs: time(where, "session.createTimeUs", value.createTimeUs),
    updateTimeUs: time(where, "session.updateTimeUs", value.updateTimeUs),
    lastSequence: integer(where, "session.lastSequence", value.lastSequence),
    ...(value.forkedFrom === undefined || value.forkedFrom === null ? {} : { forkedFrom: forkOrigin(where, value.forkedFrom) }),
  };
}

function forkOrigin(where: string, value: unknown): ForkOrigin {
  if (!isObject(value)) throw inputError(where, "session.forkedFrom must be an object");
  return {
    sessionId: text(where, "session.forkedFrom.sessionId", value.sessionId, false),
    userId: text(where, "session.forkedFrom.userId", value.userId, false),
    sequence: integer(where, "session.forkedFrom.sequence", value.sequence),
  };
}

/** An event line's event. */
export function checkEvent(where: string, value: unknown): StoredEvent {
  if (!isObject(value)) throw inputError(where, "event must be an object");
  const sequence = integer(where, "event.sequence", value.sequence);
  if (sequence < 1) throw inputError(where, "event.sequence must be at least 1");
  const ids = value.longRunningToolIds ?? [];
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) throw inputError(where, "event.longRunningToolIds must be a list of strings");
  ids.forEach((id: string, i) => text(where, `event.longRunningToolIds[${i}]`, id));
  return {
    sequence,
    id: text(where, "event.id", value.id, false),
    invocationId: text(where, "event.invocationId", value.invocationId ?? ""),
    agentId: text(where, "event.agentId", value.agentId ?? ""),
    author: text(where, "event.author", value.author ?? ""),
    branch: text(where, "event.branch", value.branch ?? ""),
    timestampUs: time(where, "event.timestampUs", value.timestampUs),
    content: nullableObject(where, "event.content", value.content),
    actions: actionsOf(where, value.actions),
    metadata: nullableObject(where, "event.metadata", value.metadata),
    turnComplete: value.turnComplete === true,
    errorCode: text(where, "event.errorCode", value.errorCode ?? ""),
    errorMessage: text(where, "event.errorMessage", value.errorMessage ?? ""),
    longRunningToolIds: ids as string[],
    interrupted: value.interrupted === true,
  };
}

function text(where: string, field: string, value: unknown, emptyAllowed = true): string {
  if (typeof value !== "string" || (!emptyAllowed && value === "")) {
    throw inputError(where, `${field} must be a ${emptyAllowed ? "" : "non-empty "}string`);
  }
  const problem = textProblem(value);
  if (problem) throw inputError(where, `${field} ${problem}`);
  return value;
}

function time(where: string, field: string, value: unknown): number {
  const us = integer(where, field, value);
  if (us < limits.minTimestampUs || us > limits.maxTimestampUs) throw inputError(where, `${field} is outside 1700-01-01..2199-12-31`);
  return us;
}

function integer(where: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw inputError(where, `${field} must be an integer`);
  return value;
}

// The actions object holds JSON fields one level down: each gets the whole depth, as in the API.
function actionsOf(where: string, value: unknown): StoredEvent["actions"] {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw inputError(where, "event.actions must be an object");
  const { stateDelta, custom, artifactDelta, transferToAgent, ...rest } = value;
  checkJson(`${where}: event.actions`, rest as JsonObject);
  if (stateDelta !== undefined) checkState(where, stateDelta, "event.actions.stateDelta");
  if (custom !== undefined) checkState(where, custom, "event.actions.custom");
  if (transferToAgent !== undefined) text(where, "event.actions.transferToAgent", transferToAgent);
  if (artifactDelta !== undefined) {
    const versions = checkState(where, artifactDelta, "event.actions.artifactDelta");
    for (const [name, version] of Object.entries(versions)) integer(where, keyPath("event.actions.artifactDelta", name), version);
  }
  return value as StoredEvent["actions"];
}

function nullableObject(where: string, field: string, value: unknown): JsonObject | null {
  if (value === null || value === undefined) return null;
  return checkState(where, value, field);
}

/** INVALID_ARGUMENT naming the input position, e.g. "line 12". */
export function inputError(where: string, problem: string): SessiondError {
  return new SessiondError("invalid_argument", `${where}: ${problem}`);
}
