import type { RewindMarker } from "../core/effective-history.js";
import type {
  AppListQuery,
  AppendBatch,
  AppendOutcome,
  AppSummary,
  DeleteScope,
  EventPageQuery,
  ForkPlan,
  JsonObject,
  NewSession,
  RecentEventsQuery,
  SessionKey,
  SessionListQuery,
  SessionPatch,
  SessionRecord,
  SessionView,
  StoredEvent,
} from "../core/types.js";

/**
 * Persistence behind the API. Handlers validate input and call these
 * methods; a store never sees protobuf messages and never decides API rules
 * that live in `src/core/` (state scopes, append planning, cursors).
 *
 * Errors are {@link SessiondError}s: `not_found` for a missing session,
 * `already_exists`, `aborted` for sequence conflicts. Every write is atomic:
 * on failure nothing of it remains.
 */
export interface Store {
  /** Short name of the backend, e.g. "sqlite". */
  readonly kind: string;
  /**
   * Whether the store keeps appended events' encodedTail for binary reads.
   * Where it does not, the server does not make them: a store that holds
   * events as objects encodes them about as fast as it would copy a tail.
   */
  readonly keepsEncodedTails?: boolean;
  /**
   * Events a long read (a GetEvents replay) asks for per readEvents call,
   * when more than the API's page limit pays: each read costs a round trip
   * to a database server. Undefined: the page limit.
   */
  readonly streamPageSize?: number;

  /** Creates a session and applies the scoped parts of its initial state. */
  createSession(input: NewSession): Promise<SessionView>;

  /** Reads a session, its shared state and the events the query selects (oldest first). */
  getSession(key: SessionKey, query: RecentEventsQuery): Promise<{ view: SessionView; events: StoredEvent[] }>;

  /** Changes status, metadata or agent; checks expectedLastSequence first. */
  updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView>;

  /** Deletes a session and all its events. */
  deleteSession(key: SessionKey): Promise<void>;

  /**
   * Returns up to `query.limit` sessions after `query.after` in the query's
   * order of (update time, user id, id), with the app and user state they share.
   */
  listSessions(query: SessionListQuery): Promise<SessionView[]>;

  /**
   * Up to `query.limit` apps that have at least one session, in byte order
   * of name, with their session counts.
   */
  listApps(query: AppListQuery): Promise<AppSummary[]>;

  /**
   * Appends a batch in one transaction: locks the session, looks up which of
   * the batch's ids are stored, lets `planAppend` decide, then writes the new
   * events, the scoped state changes, last_sequence and update_time.
   */
  appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome>;

  /**
   * One page of events with sequence > afterSequence matching the filter, in
   * sequence order. Throws not_found when the session does not exist (a store
   * may check that only when the page is empty).
   */
  readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]>;

  /** Deletes every session in scope (and optionally its shared state); returns how many. */
  deleteSessions(scope: DeleteScope): Promise<number>;

  /** The app's state and the user's state, without prefixes. */
  getSharedState(appName: string, userId: string): Promise<{ appState: JsonObject; userState: JsonObject }>;

  /**
   * Sessions of every app in (app name, user id, id) order, strictly after
   * `after`; for export and store-to-store copies.
   */
  scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]>;

  /**
   * Writes a session exactly as given (times, status, state, metadata,
   * fork origin), replacing the row if it exists but keeping its events and
   * its recorded initial state (a new row has none); last_sequence becomes
   * the larger of the given and the stored one. For import and copies.
   */
  restoreSession(session: SessionRecord): Promise<void>;

  /**
   * Stores events with the sequences they carry, skipping sequences already
   * stored, and raises last_sequence to the highest. State is not touched:
   * the restored session row carries it. For import and copies.
   */
  restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void>;

  /** Replaces the app's and the user's shared state (undefined leaves one as is). */
  restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }): Promise<void>;

  /**
   * The session-scoped state the session was created with, or null for a
   * session without one: created before stores recorded it, or restored.
   */
  readInitialState(key: SessionKey): Promise<JsonObject | null>;

  /**
   * Creates `plan.target` in one transaction, copying the source's events
   * of `plan.ranges` renumbered 1..N (ids, times and deltas unchanged)
   * without reading them into the process at once. Shared state is not
   * touched. not_found when the source is missing or holds fewer than
   * `plan.throughSequence` events, already_exists when the target is taken.
   */
  forkSession(plan: ForkPlan): Promise<SessionView>;

  /**
   * Optional: the session's rewind markers with sequences up to `through`,
   * in order, found by the store without returning the other events.
   * not_found when the session does not exist. Without it the server finds
   * them by reading the events page by page.
   */
  readRewindMarkers?(key: SessionKey, through: number): Promise<RewindMarker[]>;

  /** Releases connections and files. The store is unusable afterwards. */
  close(): Promise<void>;

  /**
   * Optional: calls `listener` when events are appended to the session through
   * any server sharing this store. Stores without it are polled by followers.
   * A listener call is only a hint to re-read (followers re-read by sequence),
   * so a store may merge, repeat or, rarely, lose notifications; it should
   * also notify when the session is deleted. One subscription per session and
   * process is opened (see FollowHub) and released with the returned function.
   */
  subscribe?(key: SessionKey, listener: () => void): Promise<() => Promise<void>>;

  /** Optional: resolves when the backend answers, rejects when it is unreachable. */
  ping?(): Promise<void>;

  /** Optional: connection pool figures for metrics. */
  poolStats?(): PoolStats;
}

/** Connection pool figures a store may report. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}
