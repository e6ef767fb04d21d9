import { keyOf } from "../core/match.js";
import type { SessionKey, SessionRecord, StoredEvent } from "../core/types.js";
import type { Store } from "../stores/store.js";

/** Sessions read per scanSessions call. */
const SESSION_PAGE = 200;
/** Events read per readEvents call, and stored per restoreEvents call. */
export const EVENT_PAGE = 500;

/** Where a scan starts and which app it keeps to. */
export interface ScanRange {
  /** Only this app's sessions. */
  appName?: string;
  /** Exclusive start, in (app, user, id) order. */
  after?: SessionKey;
}

/** Every session in (app, user, id) order, read page by page. */
export async function* sessionsOf(store: Store, range: ScanRange = {}): AsyncGenerator<SessionRecord> {
  let after = range.after;
  if (range.appName !== undefined && (!after || after.appName < range.appName)) {
    // User ids are never empty, so this key sorts before the app's first session.
    after = { appName: range.appName, userId: "", sessionId: "" };
  }
  for (;;) {
    const page = await store.scanSessions(after, SESSION_PAGE);
    for (const record of page) {
      if (range.appName !== undefined && record.appName !== range.appName) return;
      yield record;
    }
    if (page.length < SESSION_PAGE) return;
    after = keyOf(page.at(-1)!);
  }
}

/** How many sessions a scan of `range` visits. */
export async function countSessions(store: Store, range: ScanRange = {}): Promise<number> {
  let count = 0;
  for await (const _ of sessionsOf(store, range)) count++;
  return count;
}

/** A session's events after `afterSequence`, one page at a time, never the whole history at once. */
export async function* eventPagesOf(store: Store, key: SessionKey, afterSequence = 0): AsyncGenerator<StoredEvent[]> {
  let cursor = afterSequence;
  for (;;) {
    const page = await store.readEvents(key, { filter: {}, afterSequence: cursor, limit: EVENT_PAGE });
    if (page.length > 0) yield page;
    if (page.length < EVENT_PAGE) return;
    cursor = page.at(-1)!.sequence;
  }
}

/**
 * First step of restoring a session: writes its row without raising
 * last_sequence, and returns the highest sequence the target already holds,
 * so a resumed copy sends only the events after it. Call
 * `restoreSession(record)` again once the events are in.
 */
export async function beginRestore(target: Store, record: SessionRecord): Promise<number> {
  await target.restoreSession({ ...record, lastSequence: 0 });
  const { view } = await target.getSession(keyOf(record), { numRecentEvents: 0 });
  return view.session.lastSequence;
}

/** Copies the app's and the user's shared state once each as a scan in (app, user, id) order reaches them. */
export class SharedStateCopier {
  private app: string | undefined;
  private user: string | undefined;

  constructor(
    private readonly from: Store,
    private readonly to: Store,
  ) {}

  /** Copies what the session `(appName, userId)` shares, unless an earlier session did. */
  async reach(appName: string, userId: string): Promise<void> {
    const newApp = appName !== this.app;
    if (!newApp && userId === this.user) return;
    const { appState, userState } = await this.from.getSharedState(appName, userId);
    await this.to.restoreSharedState(appName, userId, newApp ? { appState, userState } : { userState });
    this.app = appName;
    this.user = userId;
  }
}
