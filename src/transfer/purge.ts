import { deleteScopeMatches } from "../core/match.js";
import type { DeleteScope, SessionStatus } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { sessionsOf } from "./scan.js";

/** Which sessions a retention purge removes. */
export interface PurgeRule {
  /** Sessions not updated for this long are removed. */
  olderThanMs: number;
  /** Only sessions in this status. */
  status?: SessionStatus;
  /** Only this app's sessions. */
  appName?: string;
}

/** The store's delete scope for a rule, relative to `nowMs`. */
export function purgeScope(rule: PurgeRule, nowMs = Date.now()): DeleteScope {
  return {
    appName: rule.appName,
    status: rule.status,
    updatedBeforeUs: Math.round((nowMs - rule.olderThanMs) * 1000),
    purgeState: false,
  };
}

/** Deletes the sessions the rule covers (events go with them); returns how many. Shared state is kept. */
export async function purge(store: Store, rule: PurgeRule, nowMs = Date.now()): Promise<number> {
  return store.deleteSessions(purgeScope(rule, nowMs));
}

/** Counts the sessions {@link purge} would delete, without deleting (scans them). */
export async function countPurge(store: Store, rule: PurgeRule, nowMs = Date.now()): Promise<number> {
  const scope = purgeScope(rule, nowMs);
  let count = 0;
  for await (const session of sessionsOf(store, { appName: rule.appName })) if (deleteScopeMatches(session, scope)) count++;
  return count;
}
