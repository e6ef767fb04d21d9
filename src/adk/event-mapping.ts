import type { JsonObject, JsonValue, MessageInitShape } from "@bufbuild/protobuf";
import { createEvent, createEventActions, type Event as AdkEvent, type EventActions as AdkEventActions } from "@google/adk";
import type { Event, EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { timestampFromUs, timestampToUs } from "../api/convert.js";
import { emptyJsonObject } from "../core/json-object.js";
import { TEMP_PREFIX } from "../core/state.js";

/**
 * Mapping between ADK events and sessiond events, lossless in both
 * directions. Fields sessiond has a column for travel in that column; every
 * other ADK event field (groundingMetadata, usageMetadata, customMetadata,
 * output, nodeInfo …) is a key of `metadata`, every other action
 * (requestedAuthConfigs, requestedToolConfirmations, agentState …) a key of
 * `actions.custom`. Values a column cannot tell apart from "unset" (an empty
 * author, `turnComplete: false`, a sub-microsecond timestamp) are kept
 * verbatim under {@link EXACT_KEY}.
 */

/** Request shape of a sessiond event. */
export type EventInit = MessageInitShape<typeof EventSchema>;

/** Metadata key holding the ADK values a sessiond column cannot represent exactly. */
export const EXACT_KEY = "adk:exact";

const COLUMNS = new Set([
  "id",
  "invocationId",
  "author",
  "branch",
  "timestamp",
  "content",
  "actions",
  "partial",
  "turnComplete",
  "errorCode",
  "errorMessage",
  "interrupted",
  "longRunningToolIds",
]);
const ACTION_COLUMNS = new Set(["stateDelta", "artifactDelta", "transferToAgent", "escalate", "skipSummarization"]);
/** Dictionaries ADK always creates (createEventActions); empty ones are not stored. */
const DEFAULT_DICTS = new Set(["requestedAuthConfigs", "requestedToolConfirmations"]);
const TEXT_FIELDS = ["author", "branch", "errorCode", "errorMessage"] as const;
const FLAG_FIELDS = ["partial", "turnComplete", "interrupted"] as const;

/** Milliseconds (ADK's unit for event and session times) to integer microseconds. */
export function msToUs(ms: number): number {
  return Math.round(ms * 1000);
}

/** The JSON form of a value: what a JSON column would store. */
export function toJson(value: unknown): JsonValue {
  const text = JSON.stringify(value ?? null) as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/** The `temp:` entries of a state delta, which live only in the running invocation. */
export function tempEntries(delta: Record<string, unknown> | undefined): [string, unknown][] {
  return delta ? Object.entries(delta).filter(([key]) => key.startsWith(TEMP_PREFIX)) : [];
}

/** A sessiond event for an ADK event; `temp:` keys are left out of the state delta. */
export function toRemoteEvent(event: AdkEvent): EventInit {
  // Filled key by key from application data: prototype-free, so a `__proto__` key stays a key.
  const exact = emptyJsonObject();
  const metadata = emptyJsonObject();
  const source = event as unknown as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!COLUMNS.has(key) && source[key] !== undefined) metadata[key] = toJson(source[key]);
  }
  for (const field of TEXT_FIELDS) if (event[field] === "") exact[field] = "";
  for (const field of FLAG_FIELDS) if (event[field] === false) exact[field] = false;
  if (event.longRunningToolIds === undefined) exact.longRunningToolIds = null;
  const timestampUs = event.timestamp ? msToUs(event.timestamp) : 0;
  if (event.timestamp && timestampUs / 1000 !== event.timestamp) exact.timestamp = event.timestamp;
  if (event.actions?.transferToAgent === "") exact["actions.transferToAgent"] = "";
  if (Object.keys(exact).length > 0) metadata[EXACT_KEY] = exact;
  return {
    id: event.id,
    invocationId: event.invocationId ?? "",
    author: event.author ?? "",
    branch: event.branch ?? "",
    timestamp: event.timestamp ? timestampFromUs(timestampUs) : undefined,
    content: event.content ? (toJson(event.content) as JsonObject) : undefined,
    actions: event.actions ? actionsToRemote(event.actions) : undefined,
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
    partial: event.partial ?? false,
    turnComplete: event.turnComplete ?? false,
    errorCode: event.errorCode ?? "",
    errorMessage: event.errorMessage ?? "",
    longRunningToolIds: event.longRunningToolIds ?? [],
    interrupted: event.interrupted ?? false,
  };
}

function actionsToRemote(actions: AdkEventActions): NonNullable<EventInit["actions"]> {
  const source = actions as unknown as Record<string, unknown>;
  const custom = emptyJsonObject();
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (ACTION_COLUMNS.has(key) || value === undefined) continue;
    if (DEFAULT_DICTS.has(key) && isEmptyObject(value)) continue;
    custom[key] = toJson(value);
  }
  const stateDelta = emptyJsonObject();
  for (const [key, value] of Object.entries(actions.stateDelta ?? {})) {
    if (!key.startsWith(TEMP_PREFIX) && value !== undefined) stateDelta[key] = toJson(value);
  }
  const artifactDelta = Object.create(null) as { [key: string]: bigint };
  for (const [name, version] of Object.entries(actions.artifactDelta ?? {})) {
    if (!Number.isSafeInteger(version)) throw new TypeError(`actions.artifactDelta[${JSON.stringify(name)}]: version must be an integer`);
    artifactDelta[name] = BigInt(version);
  }
  return {
    stateDelta: Object.keys(stateDelta).length > 0 ? stateDelta : undefined,
    artifactDelta,
    transferToAgent: actions.transferToAgent ?? "",
    escalate: actions.escalate,
    skipSummarization: actions.skipSummarization,
    custom: Object.keys(custom).length > 0 ? custom : undefined,
  };
}

/** The ADK event a stored sessiond event stands for. */
export function fromRemoteEvent(remote: Event): AdkEvent {
  const { [EXACT_KEY]: exactValue, ...rest } = remote.metadata ?? {};
  const exact = (exactValue ?? {}) as JsonObject;
  const a = remote.actions;
  const actions = createEventActions({
    ...((a?.custom ?? {}) as Partial<AdkEventActions>),
    stateDelta: { ...(a?.stateDelta ?? {}) },
    artifactDelta: Object.fromEntries(Object.entries(a?.artifactDelta ?? {}).map(([k, v]) => [k, Number(v)])),
  });
  if (a?.transferToAgent) actions.transferToAgent = a.transferToAgent;
  if (a?.escalate !== undefined) actions.escalate = a.escalate;
  if (a?.skipSummarization !== undefined) actions.skipSummarization = a.skipSummarization;
  // A rewind marker, as Python ADK's EventActions.rewind_before_invocation_id marks it.
  if (a?.rewind?.beforeInvocationId) (actions as unknown as Record<string, unknown>).rewindBeforeInvocationId = a.rewind.beforeInvocationId;
  const event = createEvent({ ...(rest as Partial<AdkEvent>), id: remote.id, invocationId: remote.invocationId });
  const target = event as unknown as Record<string, unknown>;
  event.actions = actions;
  event.timestamp = remote.timestamp ? timestampToUs(remote.timestamp) / 1000 : 0;
  event.longRunningToolIds = [...remote.longRunningToolIds];
  if (remote.author) event.author = remote.author;
  else delete target.author;
  if (remote.branch) event.branch = remote.branch;
  else delete target.branch;
  if (remote.content) event.content = remote.content as AdkEvent["content"];
  if (remote.turnComplete) event.turnComplete = true;
  if (remote.interrupted) event.interrupted = true;
  if (remote.errorCode) event.errorCode = remote.errorCode;
  if (remote.errorMessage) event.errorMessage = remote.errorMessage;
  for (const [key, value] of Object.entries(exact)) {
    if (key.startsWith("actions.")) (actions as unknown as Record<string, unknown>)[key.slice("actions.".length)] = value;
    else if (value === null) delete target[key];
    else target[key] = value;
  }
  return event;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}
