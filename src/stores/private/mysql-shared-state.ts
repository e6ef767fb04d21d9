import { applyDelta } from "../../core/state.js";
import type { JsonObject, ScopedDelta } from "../../core/types.js";
import { type Connection, rowsOf } from "./mysql-pool.js";
import { datetimeFromUs } from "./mysql-time.js";
import { parseJson, type TableNames } from "./sql.js";

/**
 * The app and user state rows of the MySQL store, read and changed inside
 * the caller's transaction.
 */

/** The app's and the user's state, read in one statement. */
export async function readSharedState(c: Connection, t: TableNames, appName: string, userId: string) {
  const [row] = await rowsOf(
    c,
    `SELECT (SELECT state FROM ${t.appStates} WHERE app_name = ?) AS app_state,
            (SELECT state FROM ${t.userStates} WHERE app_name = ? AND user_id = ?) AS user_state`,
    [appName, appName, userId],
  );
  return { appState: parseJson(row?.app_state) ?? {}, userState: parseJson(row?.user_state) ?? {} };
}

/** The app's state and that of each given user (missing users are absent), in one statement. */
export async function readSharedStates(c: Connection, t: TableNames, appName: string, userIds: string[]) {
  const rows = await rowsOf(
    c,
    `SELECT NULL AS user_id, state FROM ${t.appStates} WHERE app_name = ?
     UNION ALL SELECT user_id, state FROM ${t.userStates} WHERE app_name = ? AND user_id IN (?)`,
    [appName, appName, userIds],
  );
  let appState: JsonObject = {};
  const userStates = new Map<string, JsonObject>();
  for (const row of rows) {
    const state = parseJson(row.state) ?? {};
    if (row.user_id === null) appState = state;
    else userStates.set(String(row.user_id), state);
  }
  return { appState, userStates };
}

/**
 * Applies the app and user parts of a delta under row locks. A missing row
 * is first created empty (the upsert locks the row either way), so
 * concurrent first writers queue on one row lock instead of deadlocking on
 * gap locks; the locking read then returns the newest committed state.
 */
export async function applySharedDelta(
  c: Connection,
  t: TableNames,
  appName: string,
  userId: string,
  delta: ScopedDelta,
  nowUs: number,
): Promise<void> {
  const now = datetimeFromUs(nowUs);
  if (delta.app) {
    await c.query(`INSERT INTO ${t.appStates} (app_name, state, updated_at) VALUES (?, '{}', ?) ON DUPLICATE KEY UPDATE app_name = app_name`, [
      appName,
      now,
    ]);
    const [row] = await rowsOf(c, `SELECT state FROM ${t.appStates} WHERE app_name = ? FOR UPDATE`, [appName]);
    await writeAppState(c, t, appName, applyDelta(parseJson(row?.state) ?? {}, delta.app), now);
  }
  if (delta.user) {
    await c.query(
      `INSERT INTO ${t.userStates} (app_name, user_id, state, updated_at) VALUES (?, ?, '{}', ?) ON DUPLICATE KEY UPDATE app_name = app_name`,
      [appName, userId, now],
    );
    const [row] = await rowsOf(c, `SELECT state FROM ${t.userStates} WHERE app_name = ? AND user_id = ? FOR UPDATE`, [appName, userId]);
    await writeUserState(c, t, appName, userId, applyDelta(parseJson(row?.state) ?? {}, delta.user), now);
  }
}

/** Replaces the app's state; `now` is a DATETIME(6) string. */
export async function writeAppState(c: Connection, t: TableNames, appName: string, state: JsonObject, now: string): Promise<void> {
  await c.query(
    `INSERT INTO ${t.appStates} (app_name, state, updated_at) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE state = VALUES(state), updated_at = VALUES(updated_at)`,
    [appName, JSON.stringify(state), now],
  );
}

/** Replaces the user's state; `now` is a DATETIME(6) string. */
export async function writeUserState(c: Connection, t: TableNames, appName: string, userId: string, state: JsonObject, now: string): Promise<void> {
  await c.query(
    `INSERT INTO ${t.userStates} (app_name, user_id, state, updated_at) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE state = VALUES(state), updated_at = VALUES(updated_at)`,
    [appName, userId, JSON.stringify(state), now],
  );
}
