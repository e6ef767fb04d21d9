import type { AppListQuery, DeleteScope, EventFilter, SessionCursor, SessionKey, SessionListQuery, SessionRecord, StoredEvent } from "./types.js";

/**
 * Filter and ordering rules for stores that evaluate queries in process
 * (memory, Redis). SQL stores express the same rules in their queries.
 */

/** Whether an event passes every predicate of the filter. */
export function eventMatches(event: StoredEvent, filter: EventFilter): boolean {
  return (
    (filter.invocationId === undefined || event.invocationId === filter.invocationId) &&
    (filter.agentId === undefined || event.agentId === filter.agentId) &&
    (filter.author === undefined || event.author === filter.author) &&
    (filter.branch === undefined || event.branch === filter.branch) &&
    (filter.startTimeUs === undefined || event.timestampUs >= filter.startTimeUs) &&
    (filter.endTimeUs === undefined || event.timestampUs < filter.endTimeUs)
  );
}

/** Whether a session passes the listing's filters (not its cursor). */
export function sessionMatches(session: SessionRecord, query: SessionListQuery): boolean {
  return (
    session.appName === query.appName &&
    (query.userId === undefined || session.userId === query.userId) &&
    (query.agentId === undefined || session.agentId === query.agentId) &&
    (query.status === undefined || session.status === query.status) &&
    (query.createTimeStartUs === undefined || session.createTimeUs >= query.createTimeStartUs) &&
    (query.createTimeEndUs === undefined || session.createTimeUs < query.createTimeEndUs) &&
    (query.forkedFromSessionId === undefined || session.forkedFrom?.sessionId === query.forkedFromSessionId)
  );
}

/** Whether an app name passes an app listing's prefix, name set and cursor. */
export function appListed(appName: string, query: AppListQuery): boolean {
  return (
    appName.startsWith(query.prefix) &&
    (query.only === undefined || query.only.includes(appName)) &&
    (query.after === undefined || appName > query.after)
  );
}

/** Ascending order of (update time, user id, id): the listing's keyset. */
export function compareSessionKeys(a: SessionCursor, b: SessionCursor): number {
  if (a.updateTimeUs !== b.updateTimeUs) return a.updateTimeUs < b.updateTimeUs ? -1 : 1;
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** The keyset position of a session. */
export function sessionCursor(session: SessionRecord): SessionCursor {
  return { updateTimeUs: session.updateTimeUs, userId: session.userId, id: session.id };
}

/** Whether a bulk delete's scope covers a session. */
export function deleteScopeMatches(session: SessionRecord, scope: DeleteScope): boolean {
  return (
    (scope.appName === undefined || session.appName === scope.appName) &&
    (scope.userId === undefined || session.userId === scope.userId) &&
    (scope.updatedBeforeUs === undefined || session.updateTimeUs < scope.updatedBeforeUs) &&
    (scope.status === undefined || session.status === scope.status)
  );
}

/** Ascending order of (app name, user id, id): the order of store scans. */
export function compareKeys(a: SessionKey, b: SessionKey): number {
  if (a.appName !== b.appName) return a.appName < b.appName ? -1 : 1;
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.sessionId !== b.sessionId) return a.sessionId < b.sessionId ? -1 : 1;
  return 0;
}

/** The key of a session record. */
export function keyOf(session: SessionRecord): SessionKey {
  return { appName: session.appName, userId: session.userId, sessionId: session.id };
}
