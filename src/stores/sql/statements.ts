import { type SqlDialect, marks } from "./dialect.js";
import { EVENT_COLUMNS } from "./rows.js";

/** Which shared state: the app's (keyed by app name) or the user's (app name, user id). */
export type StateScope = "app" | "user";

/**
 * Every statement of the SQL store, named once, in the dialect's SQL.
 * Placeholders are `?`; statements that depend on a query's shape are
 * functions of that shape. Sessions are selected with their times as
 * integer microseconds, and with `WithState` also with their app and user
 * state (correlated subqueries, so one statement reads one snapshot).
 */
export function sqlStatements(d: SqlDialect) {
  const { sessions, events, appStates, userStates } = d.tables;
  const q = d.quote;
  const ts = q("timestamp");
  const time = (column: string, alias = "") => `${d.timeOf(alias + column)} AS ${column}`;
  const sessionColumns = (a = "") =>
    `${a}pk, ${a}app_name, ${a}user_id, ${a}id, ${a}agent_id, ${a}status, ${a}state, ${a}metadata, ` +
    `${time("created_at", a)}, ${time("updated_at", a)}, ${a}last_sequence, ` +
    `${a}forked_from_session_id, ${a}forked_from_user_id, ${a}forked_from_sequence`;
  const withState =
    `${sessionColumns("s.")}, (SELECT state FROM ${appStates} a WHERE a.app_name = s.app_name) AS app_state, ` +
    `(SELECT state FROM ${userStates} u WHERE u.app_name = s.app_name AND u.user_id = s.user_id) AS user_state`;
  const eventColumns = EVENT_COLUMNS.map(q).join(", ");
  // With `encoded`, only what a binary read needs besides the tail: fewer columns are sent and decoded (see readEncoded).
  const eventSelectOf = (a = "", encoded = false) =>
    encoded
      ? `${a}sequence, ${a}id, ${d.encodedAsBase64 ? `${d.encodedAsBase64(`${a}encoded`)} AS encoded` : `${a}encoded`}`
      : EVENT_COLUMNS.filter((c) => c !== "encoded")
          .map((c) => (c === "timestamp" ? `${d.timeOf(a + ts)} AS ${ts}` : a + q(c)))
          .join(", ");
  const byKey = "app_name = ? AND user_id = ? AND id = ?";
  const insertSession = `INSERT INTO ${sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence,
    initial_state, forked_from_session_id, forked_from_user_id, forked_from_sequence)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const stateKeys = { app: "app_name", user: "app_name, user_id" };
  const stateWhere = { app: "app_name = ?", user: "app_name = ? AND user_id = ?" };
  const stateTable = { app: appStates, user: userStates };
  const stateMarks = { app: "?", user: "?, ?" };
  return {
    insertSession,
    /** insertSession replacing a stored row's columns, last_sequence only growing. */
    restoreSession:
      insertSession +
      d.upsert(
        sessions,
        ["app_name", "user_id", "id"],
        ["agent_id", "status", "state", "metadata", "created_at", "updated_at", "forked_from_session_id", "forked_from_user_id", "forked_from_sequence"],
        "last_sequence",
      ),
    /** The recorded initial state (NULL for sessions from before it was recorded). */
    initialState: `SELECT initial_state FROM ${sessions} WHERE ${byKey}`,
    /**
     * Copies the source's events first..last to the target with their
     * sequences shifted, inside the database (args: shift, the target's key, source pk, first, last).
     */
    copyEvents: `INSERT INTO ${events} (session_pk, ${eventColumns})
      SELECT t.pk, ${EVENT_COLUMNS.map((c) => (c === "sequence" ? "e.sequence + ?" : `e.${q(c)}`)).join(", ")}
      FROM ${events} e, ${sessions} t WHERE t.app_name = ? AND t.user_id = ? AND t.id = ? AND e.session_pk = ? AND e.sequence BETWEEN ? AND ?`,
    session: (lock: boolean) => `SELECT ${sessionColumns()} FROM ${sessions} WHERE ${byKey}${lock ? d.forUpdate : ""}`,
    sessionWithState: `SELECT ${withState} FROM ${sessions} s WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?`,
    /** The session's pk alone; with `lock`, its row locked as `session(true)` locks it. */
    sessionPk: (lock: boolean) => `SELECT pk FROM ${sessions} WHERE ${byKey}${lock ? d.forUpdate : ""}`,
    updateSession: `UPDATE ${sessions} SET status = ?, metadata = ?, agent_id = ?, updated_at = ? WHERE pk = ?`,
    advanceSession: `UPDATE ${sessions} SET last_sequence = ?, updated_at = ?, state = COALESCE(?, state) WHERE pk = ?`,
    /** last_sequence raised to the highest stored sequence (args: pk, pk). */
    raiseLastSequence: `UPDATE ${sessions} SET last_sequence = ${d.greatest}(last_sequence,
      (SELECT COALESCE(MAX(sequence), 0) FROM ${events} WHERE session_pk = ?)) WHERE pk = ?`,
    /** A session's events, found from its key (run with the session locked: the key then names one pk). */
    deleteSessionEvents: `DELETE FROM ${events} WHERE session_pk = (SELECT pk FROM ${sessions} WHERE ${byKey})`,
    deleteSession: `DELETE FROM ${sessions} WHERE ${byKey}`,
    /** The sessions a purge deletes, locked, with their keys. */
    lockSessions: (where: string) => `SELECT pk, app_name, user_id, id FROM ${sessions} WHERE 1 = 1${where}${d.forUpdate}`,
    deleteEventsOf: memo((sessionCount: number) => `DELETE FROM ${events} WHERE session_pk IN (${marks(sessionCount)})`),
    deleteSessionsByPk: memo((sessionCount: number) => `DELETE FROM ${sessions} WHERE pk IN (${marks(sessionCount)})`),
    listSessions: (where: string, dir: "ASC" | "DESC") => `SELECT ${withState} FROM ${sessions} s WHERE 1 = 1${where}
      ORDER BY s.updated_at ${dir}, s.user_id ${dir}, s.id ${dir} LIMIT ? OFFSET ?`,
    /** Apps by name from a prefix (args: prefix three times, the `only` names, `after`, limit). */
    listApps: (only: number, after: boolean) => `SELECT app_name, COUNT(*) AS n FROM ${sessions}
      WHERE app_name >= ? AND SUBSTR(app_name, 1, LENGTH(?)) = ?${only > 0 ? ` AND app_name IN (${marks(only)})` : ""}${after ? " AND app_name > ?" : ""}
      GROUP BY app_name ORDER BY app_name LIMIT ?`,
    scanSessions: (where: string) => `SELECT ${sessionColumns()} FROM ${sessions}${where} ORDER BY app_name, user_id, id LIMIT ?`,

    insertEvents: memo(
      (rows: number, skipStored: boolean) =>
        `INSERT INTO ${events} (session_pk, ${eventColumns}) VALUES ${Array.from({ length: rows }, () => `(?, ${marks(EVENT_COLUMNS.length)})`).join(", ")}` +
        (skipStored ? d.insertIgnore("sequence") : ""),
    ),
    storedIds: memo((n: number) => `SELECT id, sequence, ${time(ts)} FROM ${events} WHERE session_pk = ? AND id ${n === 1 ? "= ?" : `IN (${marks(n)})`}`),
    /**
     * GetSession's events, found from the key so they can be read together
     * with the session (args: the key, N when `newest`, the time when
     * `afterTime`). Sequences are gapless, so the newest N are those above
     * last_sequence − N: recentEventsRange's rule, in SQL.
     */
    recentEvents: memo(
      (newest: boolean, afterTime: boolean, encoded: boolean) => `SELECT ${eventSelectOf("e.", encoded)} FROM ${sessions} s JOIN ${events} e ON e.session_pk = s.pk
      WHERE s.app_name = ? AND s.user_id = ? AND s.id = ?${newest ? " AND e.sequence > s.last_sequence - ?" : ""}${afterTime ? ` AND e.${ts} >= ?` : ""}
      ORDER BY e.sequence`,
    ),
    /** A page of a session's events (args: the key, after sequence, filter values, limit, offset). */
    readEvents: (filters: string, encoded: boolean) => `SELECT ${eventSelectOf("", encoded)} FROM ${events}
      WHERE session_pk = (SELECT pk FROM ${sessions} WHERE ${byKey}) AND sequence > ?${filters} ORDER BY sequence LIMIT ? OFFSET ?`,
    eventTime: ts,
    /** A session's rewind markers through a sequence, as (sequence, actions) (args: the key, through). */
    rewindMarkers: `SELECT sequence, actions FROM ${events}
      WHERE session_pk = (SELECT pk FROM ${sessions} WHERE ${byKey}) AND sequence <= ? AND ${d.jsonField("actions", "rewind")} IS NOT NULL ORDER BY sequence`,
    topSequence: `SELECT COALESCE(MAX(sequence), 0) AS top FROM ${events} WHERE session_pk = ?`,

    sharedState: `SELECT (SELECT state FROM ${appStates} WHERE app_name = ?) AS app_state,
      (SELECT state FROM ${userStates} WHERE app_name = ? AND user_id = ?) AS user_state`,
    /** An empty row (args: keys, now), so that there is a row to lock. */
    touchState: (s: StateScope) => `INSERT INTO ${stateTable[s]} (${stateKeys[s]}, state, updated_at) VALUES (${stateMarks[s]}, '{}', ?)${d.insertIgnore("app_name")}`,
    lockState: (s: StateScope) => `SELECT state FROM ${stateTable[s]} WHERE ${stateWhere[s]}${d.forUpdate}`,
    /** Replaces a state (args: keys, state, now). */
    putState: (s: StateScope) =>
      `INSERT INTO ${stateTable[s]} (${stateKeys[s]}, state, updated_at) VALUES (${stateMarks[s]}, ?, ?)` +
      d.upsert(stateTable[s], stateKeys[s].split(", "), ["state", "updated_at"]),
    deleteState: (s: StateScope | "allUsers") =>
      s === "allUsers" ? `DELETE FROM ${userStates} WHERE app_name = ?` : `DELETE FROM ${stateTable[s]} WHERE ${stateWhere[s]}`,
  };
}

/**
 * A statement builder that returns the same string for the same shape: the
 * hot loops run it per event, and drivers cache prepared statements by text
 * (a string built anew would be built and hashed again every time).
 */
function memo<A extends (number | boolean)[]>(build: (...shape: A) => string): (...shape: A) => string {
  const built = new Map<string, string>();
  return (...shape) => {
    const key = shape.join();
    let sql = built.get(key);
    if (sql === undefined) built.set(key, (sql = build(...shape)));
    return sql;
  };
}

/** The statements of a dialect. */
export type SqlStatements = ReturnType<typeof sqlStatements>;
