/**
 * Domain types shared by the API layer and every store. They carry plain
 * JSON values and integer microsecond times so that stores never see
 * protobuf messages.
 */

/** A JSON value as stored in state, content and metadata. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Lifecycle of a session. */
export type SessionStatus = "active" | "completed" | "failed";

/** Identifies one session: the same id under two users is two sessions. */
export interface SessionKey {
  appName: string;
  userId: string;
  sessionId: string;
}

/** A session row, with only its own (session-scoped) state. */
export interface SessionRecord {
  appName: string;
  userId: string;
  id: string;
  agentId: string;
  status: SessionStatus;
  state: JsonObject;
  metadata: JsonObject;
  createTimeUs: number;
  updateTimeUs: number;
  lastSequence: number;
  /** Set on a session made by a fork. */
  forkedFrom?: ForkOrigin;
}

/** Where a fork's history came from: the source session and the sequence it was copied up to. */
export interface ForkOrigin {
  sessionId: string;
  userId: string;
  sequence: number;
}

/** A session together with the app and user state it shares. */
export interface SessionView {
  session: SessionRecord;
  appState: JsonObject;
  userState: JsonObject;
}

/** Side effects of an event, as stored. `stateDelta` never holds `temp:` keys. */
export interface EventActions {
  stateDelta?: JsonObject;
  artifactDelta?: { [key: string]: number };
  transferToAgent?: string;
  escalate?: boolean;
  skipSummarization?: boolean;
  custom?: JsonObject;
  /** Set only on the marker event a rewind appends. */
  rewind?: RewindAction;
}

/** What a rewind marker undoes: raw events targetSequence+1 .. lastRewoundSequence, and itself. */
export interface RewindAction {
  targetSequence: number;
  lastRewoundSequence: number;
  /** Set when the rewind named an invocation. */
  beforeInvocationId?: string;
}

/** The fields of an event that a client supplies. */
export interface EventData {
  id: string;
  invocationId: string;
  agentId: string;
  author: string;
  branch: string;
  timestampUs: number;
  content: JsonObject | null;
  actions: EventActions | null;
  metadata: JsonObject | null;
  turnComplete: boolean;
  errorCode: string;
  errorMessage: string;
  longRunningToolIds: string[];
  interrupted: boolean;
  /**
   * The event's protobuf encoding from field 4 on (everything but id,
   * session id and sequence), made when it was appended. Opaque to stores:
   * those that keep it return it on reads that ask for it, so binary
   * responses write it out instead of encoding the event again. A string
   * is the bytes in base64, as a store whose driver reads base64 text
   * fastest returns them: the encoder decodes them into place.
   */
  encodedTail?: Uint8Array | string;
  /**
   * The JSON text of `content`, `actions` and `metadata` (what
   * `JSON.stringify` writes for them) where validation has it, for stores
   * to write instead of encoding the values again. Only appends set it.
   */
  json?: EventJson;
}

/** JSON text of an event's JSON values, where known. */
export interface EventJson {
  content?: string;
  actions?: string;
  metadata?: string;
}

/** An event as stored, with the sequence the server assigned. */
export interface StoredEvent extends EventData {
  sequence: number;
}

/** State changes split by scope; each is applied with {@link applyDelta}. */
export interface ScopedDelta {
  app: JsonObject | null;
  user: JsonObject | null;
  session: JsonObject | null;
}

/** An event ready to be appended: validated, id and time assigned, delta split by scope. */
export interface PendingEvent {
  event: EventData;
  delta: ScopedDelta;
}

/** What a store needs to create a session. */
export interface NewSession {
  appName: string;
  userId: string;
  id: string;
  agentId: string;
  metadata: JsonObject;
  delta: ScopedDelta;
  nowUs: number;
}

/** Fields to change on a session; undefined fields stay as they are. */
export interface SessionPatch {
  status?: SessionStatus;
  metadata?: JsonObject;
  agentId?: string;
  expectedLastSequence?: number;
  nowUs: number;
}

/** Which events GetSession returns. */
export interface RecentEventsQuery {
  /** Undefined: all. Otherwise the newest N by sequence. */
  numRecentEvents?: number;
  /** Only events whose timestamp is at or after this time. */
  afterTimeUs?: number;
  /** As {@link EventPageQuery.encoded}. */
  encoded?: boolean;
}

/** Predicates on events; undefined fields match everything. */
export interface EventFilter {
  invocationId?: string;
  agentId?: string;
  author?: string;
  branch?: string;
  startTimeUs?: number;
  endTimeUs?: number;
}

/** One page of a session's events in sequence order. */
export interface EventPageQuery {
  filter: EventFilter;
  /** Exclusive: only events with a greater sequence. */
  afterSequence: number;
  limit: number;
  /** Matching events to skip before the page starts. */
  offset?: number;
  /**
   * The caller writes binary responses: events that have an encodedTail
   * may come back with it and, of their other fields, only their sequence
   * and id.
   */
  encoded?: boolean;
}

/** Keyset position in a session listing. */
export interface SessionCursor {
  updateTimeUs: number;
  userId: string;
  id: string;
}

/** One page of an app's sessions, ordered by (update time, user id, id). */
export interface SessionListQuery {
  appName: string;
  userId?: string;
  agentId?: string;
  status?: SessionStatus;
  createTimeStartUs?: number;
  createTimeEndUs?: number;
  /** Only sessions whose forkedFrom names this session id. */
  forkedFromSessionId?: string;
  order: "asc" | "desc";
  after?: SessionCursor;
  offset: number;
  limit: number;
}

/** One page of the apps that have sessions, in byte order of name. */
export interface AppListQuery {
  /** Only names starting with this ("" for all). */
  prefix: string;
  /** Only these names (an API key's apps); undefined for every app. */
  only?: readonly string[];
  /** Only names strictly after this one. */
  after?: string;
  limit: number;
}

/** An app that has sessions, with how many. */
export interface AppSummary {
  appName: string;
  sessionCount: number;
}

/** An append request: events in order, with an optional concurrency check. */
export interface AppendBatch {
  events: PendingEvent[];
  expectedLastSequence?: number;
  nowUs: number;
}

/** The server-assigned fields of one appended (or already stored) event. */
export interface AssignedEvent {
  id: string;
  sequence: number;
  timestampUs: number;
}

/** Result of an append: one entry per batch event, in order. */
export interface AppendOutcome {
  events: AssignedEvent[];
  lastSequence: number;
}

/**
 * Which sessions a bulk delete removes: every condition that is set must
 * hold. With no app name the delete spans every app (retention purges).
 */
export interface DeleteScope {
  appName?: string;
  userId?: string;
  /** Only sessions last updated before this time. */
  updatedBeforeUs?: number;
  status?: SessionStatus;
  /**
   * Also delete shared state: the user's when a user is given, otherwise the
   * app's and all its users'. Only valid with an app name and no time or status condition.
   */
  purgeState: boolean;
}

/** Raw sequences first..last, both included. */
export interface SequenceRange {
  first: number;
  last: number;
}

/**
 * What a store writes for a fork, in one transaction: the new session, and
 * the source's events of `ranges` renumbered 1..N in order.
 */
export interface ForkPlan {
  source: SessionKey;
  /** The new session's app is the source's. */
  target: SessionKey;
  /** Ascending, disjoint source ranges; their sizes add up to the fork's last sequence. */
  ranges: SequenceRange[];
  /** The source must hold at least this many events (it may have grown since the plan). */
  throughSequence: number;
  /** Session-scoped state of the fork: the source's as of throughSequence. */
  state: JsonObject;
  /** The fork's recorded initial state (the source's), or null when the source has none recorded. */
  initialState: JsonObject | null;
  agentId: string;
  metadata: JsonObject;
  forkedFrom: ForkOrigin;
  nowUs: number;
}
