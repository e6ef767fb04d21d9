import type { SessionKey } from "../core/types.js";
import type { Store } from "../stores/store.js";

/** Counts of what the hub holds, for tests and metrics. */
export interface FollowStats {
  /** Sessions with at least one follower in this process. */
  sessions: number;
  /** Followers registered in this process. */
  followers: number;
  /** Store subscriptions currently open (at most one per session). */
  subscriptions: number;
}

/** Which sessions a bulk change touched: an app, a user of it, or one session. */
export interface SessionScope {
  appName: string;
  userId?: string;
  sessionId?: string;
}

interface Watched {
  key: SessionKey;
  listeners: Set<() => void>;
  /** The shared store subscription; undefined when the store has none. */
  subscription: Promise<() => Promise<void>> | undefined;
}

/**
 * Wakes the followers of a session in this process. Append and delete
 * handlers call {@link notify}, so same-process followers wake at once; for
 * stores with `subscribe`, one store subscription per session is shared by
 * all its followers here and released when the last one leaves, so changes
 * made through other servers wake them too. Listeners only set a flag (see
 * WakeSignal): nothing here buffers events.
 */
export class FollowHub {
  private readonly sessions = new Map<string, Watched>();
  private openSubscriptions = 0;

  constructor(
    private readonly store: Store,
    private readonly report: (error: unknown) => void = () => {},
  ) {}

  /** Wakes the followers of one session. */
  notify(key: SessionKey): void {
    const watched = this.sessions.get(watchId(key));
    if (watched) wakeAll(watched);
  }

  /** Wakes the followers of every session in scope (bulk deletes). */
  notifyScope(scope: SessionScope): void {
    for (const watched of this.sessions.values()) {
      const { key } = watched;
      if (key.appName !== scope.appName) continue;
      if (scope.userId !== undefined && key.userId !== scope.userId) continue;
      if (scope.sessionId !== undefined && key.sessionId !== scope.sessionId) continue;
      wakeAll(watched);
    }
  }

  /**
   * Registers a follower of `key`. Resolves once the store subscription (if
   * any) is open, so nothing appended afterwards goes unnoticed; returns the
   * function that unregisters it (idempotent).
   */
  async watch(key: SessionKey, listener: () => void): Promise<() => Promise<void>> {
    const id = watchId(key);
    let watched = this.sessions.get(id);
    if (!watched) {
      const entry: Watched = { key, listeners: new Set(), subscription: undefined };
      entry.subscription = this.store.subscribe?.(key, () => wakeAll(entry)).then((unsubscribe) => {
        this.openSubscriptions++;
        return unsubscribe;
      });
      this.sessions.set(id, (watched = entry));
    }
    const entry = watched;
    entry.listeners.add(listener);
    try {
      await entry.subscription;
    } catch (error) {
      entry.listeners.delete(listener);
      if (this.sessions.get(id) === entry) this.sessions.delete(id);
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.leave(id, entry, listener);
    };
  }

  /** What the hub holds right now. */
  stats(): FollowStats {
    let followers = 0;
    for (const watched of this.sessions.values()) followers += watched.listeners.size;
    return { sessions: this.sessions.size, followers, subscriptions: this.openSubscriptions };
  }

  private async leave(id: string, entry: Watched, listener: () => void): Promise<void> {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0) return;
    // A follower arriving from now on opens a fresh entry and subscription.
    if (this.sessions.get(id) === entry) this.sessions.delete(id);
    if (!entry.subscription) return;
    try {
      const unsubscribe = await entry.subscription;
      await unsubscribe();
      this.openSubscriptions--;
    } catch (error) {
      this.report(error);
    }
  }
}

function wakeAll(watched: Watched): void {
  for (const listener of watched.listeners) listener();
}

function watchId(key: SessionKey): string {
  return `${key.appName}\u0000${key.userId}\u0000${key.sessionId}`;
}
