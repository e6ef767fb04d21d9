import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { planAppend } from "../core/append.js";
import { patchSession } from "../core/session-patch.js";
import { SessiondError, sessionExists, sessionNotFound } from "../core/errors.js";
import { applyDelta } from "../core/state.js";
import { statePurge } from "../core/delete-scope.js";
import { recentEventsRange } from "../core/recent-events.js";
import { eventsToRestore } from "../core/restore.js";
import { nowUs } from "../core/time.js";
import type {
  AppListQuery,
  AppSummary,
  AppendBatch,
  AppendOutcome,
  AssignedEvent,
  DeleteScope,
  EventPageQuery,
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
import {
  callBudgetMs,
  conditions,
  deadlineExceeded,
  EVENT_COLUMNS,
  type EventRow,
  eventFilterConditions,
  eventFromRow,
  eventRow,
  jsonText,
  parseJson,
  type SessionRow,
  sessionFromRow,
  type TableNames,
  tableNames,
} from "./private/sql.js";
import { migrateSqlite, requireSqliteSchema } from "./private/sqlite-schema.js";
import type { Store } from "./store.js";
import { StoreUrlOptions } from "./url-options.js";

/** Options of the SQLite store, from the URL's query string. */
export interface SqliteOptions {
  /** Wins over the URL's `auto_migrate` (default true). */
  autoMigrate?: boolean;
  /** Fail (not_found) unless the file exists with the schema; create and migrate nothing. */
  mustExist?: boolean;
  tablePrefix?: string;
  /** "full" (default) survives power loss; "normal" is faster and survives process crashes. */
  synchronous?: "full" | "normal";
}

const asUs = (value: unknown) => Number(value);
/** How long a writer waits for another process's write lock when its call has no deadline. */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_BUSY = 5;
const asBit = (value: boolean) => (value ? 1 : 0);

/**
 * Embedded SQLite through node:sqlite: one file in WAL mode. Calls are
 * synchronous, so each method's transaction runs without interleaving in
 * this process; BEGIN IMMEDIATE and busy_timeout serialize writers across
 * processes sharing the file.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly statements = new Map<string, StatementSync>();

  private constructor(
    private readonly db: DatabaseSync,
    private readonly t: TableNames,
  ) {}

  /** Opens (creating when missing) the database file at `location`, e.g. `./sessiond.db?synchronous=normal`. */
  static async open(location: string, options: SqliteOptions = {}): Promise<SqliteStore> {
    const [path, query] = splitQuery(location);
    // `prefix` is the name older versions read; `table_prefix` is every SQL store's.
    const params = new StoreUrlOptions(query, ["table_prefix", "prefix", "synchronous", "auto_migrate"]);
    const tables = tableNames(params.string("table_prefix") ?? params.string("prefix") ?? options.tablePrefix ?? "");
    const synchronous = params.choice("synchronous", ["full", "normal"]) ?? options.synchronous ?? "full";
    if (path === "") throw new SessiondError("invalid_argument", "store: sqlite URL needs a file path, e.g. sqlite:./sessiond.db");
    if (options.mustExist && (path === ":memory:" || !existsSync(path))) {
      throw new SessiondError("not_found", `store: SQLite database ${JSON.stringify(path)} does not exist`);
    }
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;`);
    const store = new SqliteStore(db, tables);
    const autoMigrate = !options.mustExist && (options.autoMigrate ?? params.boolean("auto_migrate") ?? true);
    try {
      if (autoMigrate) store.migrate();
      else requireSqliteSchema(db, tables, path, options.mustExist);
    } catch (error) {
      db.close();
      throw error;
    }
    return store;
  }

  /** Applies the migrations this version has and the database lacks. */
  migrate(): void {
    this.tx(() => migrateSqlite(this.db, this.t));
  }

  async createSession(input: NewSession): Promise<SessionView> {
    return this.tx(() => {
      const inserted = this.stmt(
        `INSERT INTO ${this.t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
         VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`,
      ).run(
        input.appName,
        input.userId,
        input.id,
        input.agentId,
        JSON.stringify(applyDelta({}, input.delta.session)),
        JSON.stringify(input.metadata),
        input.nowUs,
        input.nowUs,
      );
      const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
      if (inserted.changes === 0) throw sessionExists(key);
      this.applyShared(input.appName, input.userId, input.delta, input.nowUs);
      return this.view(this.sessionRow(key)!.record);
    });
  }

  async getSession(key: SessionKey, query: RecentEventsQuery) {
    return this.read(() => {
      const found = this.requireSession(key);
      const range = recentEventsRange(query, found.record.lastSequence);
      const events = range
        ? this.stmt(`SELECT ${EVENT_COLUMNS.join(", ")} FROM ${this.t.events} WHERE session_pk = ? AND sequence > ? AND timestamp >= ? ORDER BY sequence`)
            .all(found.pk, range.afterSequence, range.afterTimeUs ?? Number.MIN_SAFE_INTEGER)
            .map((r) => eventFromRow(r as unknown as EventRow, asUs))
        : [];
      return { view: this.view(found.record), events };
    });
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    return this.tx(() => {
      const { record } = this.requireSession(key);
      const next: SessionRecord = patchSession(record, patch);
      this.stmt(
        `UPDATE ${this.t.sessions} SET status = ?, metadata = ?, agent_id = ?, updated_at = ? WHERE app_name = ? AND user_id = ? AND id = ?`,
      ).run(next.status, JSON.stringify(next.metadata), next.agentId, next.updateTimeUs, key.appName, key.userId, key.sessionId);
      return this.view(next);
    });
  }

  async deleteSession(key: SessionKey): Promise<void> {
    this.tx(() => {
      const result = this.stmt(`DELETE FROM ${this.t.sessions} WHERE app_name = ? AND user_id = ? AND id = ?`).run(
        key.appName,
        key.userId,
        key.sessionId,
      );
      if (result.changes === 0) throw sessionNotFound(key);
    });
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const desc = query.order === "desc";
    const { clauses, args } = conditions<SQLInputValue>([
      ["app_name = ?", query.appName],
      ["user_id = ?", query.userId],
      ["agent_id = ?", query.agentId],
      ["status = ?", query.status],
      ["created_at >= ?", query.createTimeStartUs],
      ["created_at < ?", query.createTimeEndUs],
    ]);
    const keyset = query.after ? ` AND (updated_at, user_id, id) ${desc ? "<" : ">"} (?, ?, ?)` : "";
    if (query.after) args.push(query.after.updateTimeUs, query.after.userId, query.after.id);
    const dir = desc ? "DESC" : "ASC";
    const sql = `SELECT * FROM ${this.t.sessions} WHERE 1 = 1${clauses}${keyset}
      ORDER BY updated_at ${dir}, user_id ${dir}, id ${dir} LIMIT ? OFFSET ?`;
    return this.read(() => {
      const records = this.stmt(sql)
        .all(...args, query.limit, query.offset)
        .map((r) => sessionFromRow(r as unknown as SessionRow, asUs));
      return this.views(query.appName, records);
    });
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    const only = query.only ? ` AND app_name IN (${query.only.map(() => "?").join(", ")})` : "";
    const after = query.after === undefined ? "" : " AND app_name > ?";
    const sql = `SELECT app_name, COUNT(*) AS n FROM ${this.t.sessions}
      WHERE app_name >= ? AND substr(app_name, 1, length(?)) = ?${only}${after}
      GROUP BY app_name ORDER BY app_name LIMIT ?`;
    const args: SQLInputValue[] = [query.prefix, query.prefix, query.prefix, ...(query.only ?? [])];
    if (query.after !== undefined) args.push(query.after);
    return this.read(() =>
      this.stmt(sql)
        .all(...args, query.limit)
        .map((r) => ({ appName: String(r.app_name), sessionCount: Number(r.n) })),
    );
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    return this.tx(() => {
      const { pk, record } = this.requireSession(key);
      // One probe of the (session_pk, id) index per id: a single IN (…) query
      // lets SQLite walk the whole session through the primary key instead.
      const stored = new Map<string, AssignedEvent>();
      const probe = this.stmt(`SELECT sequence, timestamp FROM ${this.t.events} WHERE session_pk = ? AND id = ?`);
      for (const { event } of batch.events) {
        const row = probe.get(pk, event.id);
        if (row) stored.set(event.id, { id: event.id, sequence: Number(row.sequence), timestampUs: Number(row.timestamp) });
      }
      const plan = planAppend(batch, record.lastSequence, stored);
      if (plan.inserts.length === 0) return plan.outcome;
      const insert = this.stmt(
        `INSERT INTO ${this.t.events} (session_pk, ${EVENT_COLUMNS.join(", ")}) VALUES (?${", ?".repeat(EVENT_COLUMNS.length)})`,
      );
      for (const event of plan.inserts) {
        insert.run(pk, ...(eventRow(event, (us) => us, asBit) as SQLInputValue[]));
      }
      const state = plan.delta.session ? jsonText(applyDelta(record.state, plan.delta.session)) : null;
      this.stmt(`UPDATE ${this.t.sessions} SET last_sequence = ?, updated_at = ?, state = COALESCE(?, state) WHERE pk = ?`).run(
        plan.outcome.lastSequence,
        plan.updateTimeUs,
        state,
        pk,
      );
      this.applyShared(key.appName, key.userId, plan.delta, batch.nowUs);
      return plan.outcome;
    });
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    return this.read(() => {
      const pk = this.sessionPk(key);
      if (pk === undefined) throw sessionNotFound(key);
      const { clauses, args } = eventFilterConditions<number>(query.filter, (us) => us);
      const sql = `SELECT ${EVENT_COLUMNS.join(", ")} FROM ${this.t.events}
        WHERE session_pk = ? AND sequence > ?${clauses} ORDER BY sequence LIMIT ? OFFSET ?`;
      return this.stmt(sql)
        .all(pk, query.afterSequence, ...args, query.limit, query.offset ?? 0)
        .map((r) => eventFromRow(r as unknown as EventRow, asUs));
    });
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    const { clauses, args } = conditions<SQLInputValue>([
      ["app_name = ?", scope.appName],
      ["user_id = ?", scope.userId],
      ["updated_at < ?", scope.updatedBeforeUs],
      ["status = ?", scope.status],
    ]);
    return this.tx(() => {
      const result = this.stmt(`DELETE FROM ${this.t.sessions} WHERE 1 = 1${clauses}`).run(...args);
      const purge = statePurge(scope);
      if (purge.kind === "user") this.stmt(`DELETE FROM ${this.t.userStates} WHERE app_name = ? AND user_id = ?`).run(purge.appName, purge.userId);
      if (purge.kind === "app") {
        this.stmt(`DELETE FROM ${this.t.userStates} WHERE app_name = ?`).run(purge.appName);
        this.stmt(`DELETE FROM ${this.t.appStates} WHERE app_name = ?`).run(purge.appName);
      }
      return Number(result.changes);
    });
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    const where = after ? "WHERE (app_name, user_id, id) > (?, ?, ?)" : "";
    const args: SQLInputValue[] = after ? [after.appName, after.userId, after.sessionId] : [];
    return this.stmt(`SELECT * FROM ${this.t.sessions} ${where} ORDER BY app_name, user_id, id LIMIT ?`)
      .all(...args, limit)
      .map((r) => sessionFromRow(r as unknown as SessionRow, asUs));
  }

  async restoreSession(s: SessionRecord): Promise<void> {
    this.tx(() => {
      this.stmt(
        `INSERT INTO ${this.t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_name, user_id, id) DO UPDATE SET agent_id = excluded.agent_id, status = excluded.status,
           state = excluded.state, metadata = excluded.metadata, created_at = excluded.created_at,
           updated_at = excluded.updated_at, last_sequence = MAX(last_sequence, excluded.last_sequence)`,
      ).run(s.appName, s.userId, s.id, s.agentId, s.status, JSON.stringify(s.state), JSON.stringify(s.metadata), s.createTimeUs, s.updateTimeUs, s.lastSequence);
    });
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    this.tx(() => {
      const { pk } = this.requireSession(key);
      const top = Number(this.stmt(`SELECT COALESCE(MAX(sequence), 0) AS top FROM ${this.t.events} WHERE session_pk = ?`).get(pk)!.top);
      const insert = this.stmt(
        `INSERT INTO ${this.t.events} (session_pk, ${EVENT_COLUMNS.join(", ")}) VALUES (?${", ?".repeat(EVENT_COLUMNS.length)})
         ON CONFLICT DO NOTHING`,
      );
      for (const event of eventsToRestore(events, top)) insert.run(pk, ...(eventRow(event, (us) => us, asBit) as SQLInputValue[]));
      this.stmt(
        `UPDATE ${this.t.sessions} SET last_sequence = MAX(last_sequence, (SELECT COALESCE(MAX(sequence), 0) FROM ${this.t.events} WHERE session_pk = ?)) WHERE pk = ?`,
      ).run(pk, pk);
    });
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    this.tx(() => {
      const now = nowUs();
      if (state.appState) this.putAppState(appName, state.appState, now);
      if (state.userState) this.putUserState(appName, userId, state.userState, now);
    });
  }

  async getSharedState(appName: string, userId: string) {
    return this.read(() => ({ appState: this.appState(appName), userState: this.userState(appName, userId) }));
  }

  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * A write transaction. Under a call deadline, waiting for another
   * process's write lock is bounded by the time left (busy_timeout), and the
   * deadline is checked again before COMMIT: a write that ran past it is
   * rolled back.
   */
  private tx<T>(work: () => T): T {
    const budget = callBudgetMs();
    const wait = budget === undefined ? BUSY_TIMEOUT_MS : Math.min(BUSY_TIMEOUT_MS, budget);
    if (wait !== BUSY_TIMEOUT_MS) this.db.exec(`PRAGMA busy_timeout = ${wait}`);
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw budget !== undefined && (error as { errcode?: number }).errcode === SQLITE_BUSY ? deadlineExceeded() : error;
    } finally {
      if (wait !== BUSY_TIMEOUT_MS) this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    try {
      const result = work();
      if (budget !== undefined) callBudgetMs();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  /** A read transaction, so multi-statement reads see one snapshot even with other writer processes. */
  private read<T>(work: () => T): T {
    callBudgetMs();
    this.db.exec("BEGIN");
    try {
      return work();
    } finally {
      this.db.exec("COMMIT");
    }
  }

  private sessionRow(key: SessionKey): { pk: number; record: SessionRecord } | undefined {
    const row = this.stmt(`SELECT * FROM ${this.t.sessions} WHERE app_name = ? AND user_id = ? AND id = ?`).get(
      key.appName,
      key.userId,
      key.sessionId,
    );
    return row ? { pk: Number(row.pk), record: sessionFromRow(row as unknown as SessionRow, asUs) } : undefined;
  }

  private requireSession(key: SessionKey) {
    const found = this.sessionRow(key);
    if (!found) throw sessionNotFound(key);
    return found;
  }

  private sessionPk(key: SessionKey): number | undefined {
    const row = this.stmt(`SELECT pk FROM ${this.t.sessions} WHERE app_name = ? AND user_id = ? AND id = ?`).get(
      key.appName,
      key.userId,
      key.sessionId,
    );
    return row ? Number(row.pk) : undefined;
  }

  private appState(appName: string): JsonObject {
    const row = this.stmt(`SELECT state FROM ${this.t.appStates} WHERE app_name = ?`).get(appName);
    return parseJson(row?.state) ?? {};
  }

  private userState(appName: string, userId: string): JsonObject {
    const row = this.stmt(`SELECT state FROM ${this.t.userStates} WHERE app_name = ? AND user_id = ?`).get(appName, userId);
    return parseJson(row?.state) ?? {};
  }

  private view(record: SessionRecord): SessionView {
    return { session: record, appState: this.appState(record.appName), userState: this.userState(record.appName, record.userId) };
  }

  private views(appName: string, records: SessionRecord[]): SessionView[] {
    const appState = this.appState(appName);
    const userStates = new Map<string, JsonObject>();
    return records.map((session) => {
      let userState = userStates.get(session.userId);
      if (!userState) userStates.set(session.userId, (userState = this.userState(appName, session.userId)));
      return { session, appState, userState };
    });
  }

  private applyShared(appName: string, userId: string, delta: ScopedDelta, nowUs: number): void {
    if (delta.app) this.putAppState(appName, applyDelta(this.appState(appName), delta.app), nowUs);
    if (delta.user) this.putUserState(appName, userId, applyDelta(this.userState(appName, userId), delta.user), nowUs);
  }

  private putAppState(appName: string, state: JsonObject, nowUs: number): void {
    this.stmt(
      `INSERT INTO ${this.t.appStates} (app_name, state, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (app_name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ).run(appName, JSON.stringify(state), nowUs);
  }

  private putUserState(appName: string, userId: string, state: JsonObject, nowUs: number): void {
    this.stmt(
      `INSERT INTO ${this.t.userStates} (app_name, user_id, state, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (app_name, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ).run(appName, userId, JSON.stringify(state), nowUs);
  }
}

function splitQuery(location: string): [string, string] {
  const at = location.indexOf("?");
  return at < 0 ? [location, ""] : [location.slice(0, at), location.slice(at + 1)];
}
