import type { DeleteScope } from "./types.js";

/**
 * The shared state a bulk delete removes besides its sessions: nothing, one
 * user's state, or the app's state with every user's state in the app.
 */
export type StatePurge =
  | { kind: "none" }
  | { kind: "user"; appName: string; userId: string }
  | { kind: "app"; appName: string };

/**
 * What `purgeState` removes for a scope. Shared state is only purged for a
 * named app (a scope without one never touches state): the user's state when
 * the scope names a user, otherwise the app's and all its users'.
 */
export function statePurge(scope: DeleteScope): StatePurge {
  if (!scope.purgeState || scope.appName === undefined) return { kind: "none" };
  if (scope.userId !== undefined) return { kind: "user", appName: scope.appName, userId: scope.userId };
  return { kind: "app", appName: scope.appName };
}
