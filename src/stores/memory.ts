import { planAppend } from "../core/append.js";
import { forkedSessionRecord, newSessionRecord, patchSession } from "../core/session-patch.js";
import { sessionExists, sessionNotFound } from "../core/errors.js";
import { statePurge } from "../core/delete-scope.js";
import { inRecentEventsRange, recentEventsRange } from "../core/recent-events.js";
import { eventsToRestore } from "../core/restore.js";
import { appListed, compareKeys, compareSessionKeys, deleteScopeMatches, eventMatches, keyOf, sessionCursor, sessionMatches } from "../core/match.js";
import { markersOf, type RewindMarker } from "../core/effective-history.js";
import { applyDelta } from "../core/state.js";
import type {
  AppListQuery,
  AppSummary,
  AppendBatch,
  AppendOutcome,
  AssignedEvent,
  DeleteScope,
  EventPageQuery,
  ForkPlan,
  JsonObject,
  NewSession,
  RecentEventsQuery,
  ScopedDelta,
  SessionKey,
  SessionListQuery,
  SessionPatch,
  SessionRecord,
  SessionView,
  StoredEvent,
} from "../core/types.js";
import type { Store } from "./store.js";
import { throwIfCallExpired } from "./call-deadline.js";

interface Entry {
  record: SessionRecord;
  /** Sorted by sequence; sequences are 1..n so index = sequence - 1. */
  events: StoredEvent[];
  byId: Map<string, StoredEvent>;
  /** The session-scoped state it was created with; null when restored without one. */
  initialState: JsonObject | null;
}

/**
 * Keeps everything in process memory; for development and tests. All
 * operations run synchronously between awaits, so each one is atomic.
 */
export class MemoryStore implements Store {
  readonly kind = "memory";
  private readonly sessions = new Map<string, Entry>();
  private readonly appStates = new Map<string, JsonObject>();
  private readonly userStates = new Map<string, JsonObject>();

  async createSession(input: NewSession): Promise<SessionView> {
    throwIfCallExpired();
    const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
    const id = entryId(key);
    if (this.sessions.has(id)) throw sessionExists(key);
    const record = newSessionRecord(input);
    this.applyShared(input.appName, input.userId, input.delta);
    this.sessions.set(id, { record, events: [], byId: new Map(), initialState: record.state });
    return this.view(record);
  }

  async getSession(key: SessionKey, query: RecentEventsQuery) {
    const entry = this.entry(key);
    const range = recentEventsRange(query, entry.events.length);
    const events = range ? entry.events.slice(range.afterSequence).filter((e) => inRecentEventsRange(e, range)) : [];
    return { view: this.view(entry.record), events };
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    throwIfCallExpired();
    const entry = this.entry(key);
    const record = entry.record;
    entry.record = patchSession(record, patch);
    return this.view(entry.record);
  }

  async deleteSession(key: SessionKey): Promise<void> {
    throwIfCallExpired();
    if (!this.sessions.delete(entryId(key))) throw sessionNotFound(key);
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const direction = query.order === "asc" ? 1 : -1;
    const matches = [...this.sessions.values()]
      .map((e) => e.record)
      .filter((s) => sessionMatches(s, query))
      .filter((s) => !query.after || compareSessionKeys(sessionCursor(s), query.after) * direction > 0)
      .sort((a, b) => compareSessionKeys(sessionCursor(a), sessionCursor(b)) * direction);
    return matches.slice(query.offset, query.offset + query.limit).map((s) => this.view(s));
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    const counts = new Map<string, number>();
    for (const { record } of this.sessions.values()) {
      if (appListed(record.appName, query)) counts.set(record.appName, (counts.get(record.appName) ?? 0) + 1);
    }
    return [...counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, query.limit)
      .map(([appName, sessionCount]) => ({ appName, sessionCount }));
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    throwIfCallExpired();
    const entry = this.entry(key);
    const stored = new Map<string, AssignedEvent>();
    for (const { event } of batch.events) {
      const hit = entry.byId.get(event.id);
      if (hit) stored.set(hit.id, hit);
    }
    const plan = planAppend(batch, entry.record.lastSequence, stored);
    if (plan.inserts.length === 0) return plan.outcome;
    for (const event of plan.inserts) {
      // The JSON text is for stores that write text; held here it would double the event's memory.
      if (event.json !== undefined) event.json = undefined;
      entry.events.push(event);
      entry.byId.set(event.id, event);
    }
    this.applyShared(key.appName, key.userId, plan.delta);
    entry.record = {
      ...entry.record,
      state: applyDelta(entry.record.state, plan.delta.session),
      lastSequence: plan.outcome.lastSequence,
      updateTimeUs: plan.updateTimeUs,
    };
    return plan.outcome;
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    const events = this.entry(key).events;
    const page: StoredEvent[] = [];
    let skip = query.offset ?? 0;
    for (let i = Math.max(0, query.afterSequence); i < events.length && page.length < query.limit; i++) {
      const event = events[i]!;
      if (!eventMatches(event, query.filter)) continue;
      if (skip > 0) skip--;
      else page.push(event);
    }
    return page;
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    throwIfCallExpired();
    let count = 0;
    for (const [id, entry] of this.sessions) {
      if (!deleteScopeMatches(entry.record, scope)) continue;
      this.sessions.delete(id);
      count++;
    }
    const purge = statePurge(scope);
    if (purge.kind === "user") this.userStates.delete(userStateId(purge.appName, purge.userId));
    if (purge.kind === "app") {
      this.appStates.delete(purge.appName);
      const prefix = userStateId(purge.appName, "");
      for (const id of this.userStates.keys()) if (id.startsWith(prefix)) this.userStates.delete(id);
    }
    return count;
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    return [...this.sessions.values()]
      .map((e) => e.record)
      .filter((s) => !after || compareKeys(keyOf(s), after) > 0)
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b)))
      .slice(0, limit);
  }

  async restoreSession(session: SessionRecord): Promise<void> {
    const id = entryId(keyOf(session));
    const entry = this.sessions.get(id);
    if (entry) entry.record = { ...session, lastSequence: Math.max(session.lastSequence, entry.record.lastSequence) };
    else this.sessions.set(id, { record: session, events: [], byId: new Map(), initialState: null });
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    const entry = this.entry(key);
    for (const event of eventsToRestore(events, entry.events.length)) {
      entry.events.push(event);
      entry.byId.set(event.id, event);
    }
    const last = entry.events.length;
    if (last > entry.record.lastSequence) entry.record = { ...entry.record, lastSequence: last };
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    if (state.appState) this.appStates.set(appName, state.appState);
    if (state.userState) this.userStates.set(userStateId(appName, userId), state.userState);
  }

  async readRewindMarkers(key: SessionKey, through: number): Promise<RewindMarker[]> {
    return markersOf(this.entry(key).events.slice(0, through));
  }

  async readInitialState(key: SessionKey): Promise<JsonObject | null> {
    return this.entry(key).initialState;
  }

  async forkSession(plan: ForkPlan): Promise<SessionView> {
    throwIfCallExpired();
    const source = this.entry(plan.source);
    if (source.events.length < plan.throughSequence) throw sessionNotFound(plan.source);
    const id = entryId(plan.target);
    if (this.sessions.has(id)) throw sessionExists(plan.target);
    const events: StoredEvent[] = [];
    for (const range of plan.ranges) {
      for (let seq = range.first; seq <= range.last; seq++) events.push({ ...source.events[seq - 1]!, sequence: events.length + 1 });
    }
    const record = forkedSessionRecord(plan);
    this.sessions.set(id, { record, events, byId: new Map(events.map((e) => [e.id, e])), initialState: plan.initialState });
    return this.view(record);
  }

  async getSharedState(appName: string, userId: string) {
    return {
      appState: this.appStates.get(appName) ?? {},
      userState: this.userStates.get(userStateId(appName, userId)) ?? {},
    };
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }

  private entry(key: SessionKey): Entry {
    const entry = this.sessions.get(entryId(key));
    if (!entry) throw sessionNotFound(key);
    return entry;
  }

  private view(record: SessionRecord): SessionView {
    return {
      session: record,
      appState: this.appStates.get(record.appName) ?? {},
      userState: this.userStates.get(userStateId(record.appName, record.userId)) ?? {},
    };
  }

  private applyShared(appName: string, userId: string, delta: ScopedDelta): void {
    if (delta.app) this.appStates.set(appName, applyDelta(this.appStates.get(appName) ?? {}, delta.app));
    if (delta.user) {
      const id = userStateId(appName, userId);
      this.userStates.set(id, applyDelta(this.userStates.get(id) ?? {}, delta.user));
    }
  }
}

function entryId(key: SessionKey): string {
  return `${key.appName}\u0000${key.userId}\u0000${key.sessionId}`;
}

function userStateId(appName: string, userId: string): string {
  return `${appName}\u0000${userId}`;
}
