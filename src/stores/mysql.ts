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
  SessionKey,
  SessionListQuery,
  SessionPatch,
  SessionRecord,
  SessionView,
  StoredEvent,
} from "../core/types.js";
import { type MysqlSettings, parseMysqlUrl } from "./private/mysql-options.js";
import { migrateMysql, requireMysqlSchema } from "./private/mysql-migrate.js";
import { type Connection, ER_BAD_DB_ERROR, ER_DUP_ENTRY, errno, MysqlPool, type Row, rowsOf, run } from "./private/mysql-pool.js";
import { applySharedDelta, readSharedState, readSharedStates, writeAppState, writeUserState } from "./private/mysql-shared-state.js";
import { datetimeFromUs, usColumn, usFromColumn } from "./private/mysql-time.js";
import {
  conditions,
  EVENT_COLUMNS,
  type EventRow,
  eventFilterConditions,
  eventFromRow,
  eventRow,
  type SessionRow,
  sessionFromRow,
  type TableNames,
} from "./private/sql.js";
import type { PoolStats, Store } from "./store.js";

/** Options of the MySQL store beside its URL. */
export interface MysqlOptions {
  /** Create or upgrade the schema on open; wins over the URL's `auto_migrate` (default true). */
  autoMigrate?: boolean;
  /** Fail (not_found) unless the database exists with the tables; create and migrate nothing. */
  mustExist?: boolean;
}

const SESSION_SELECT = `pk, app_name, user_id, id, agent_id, status, state, metadata, ${usColumn("created_at")}, ${usColumn("updated_at")}, last_sequence`;
const EVENT_SELECT = EVENT_COLUMNS.map((c) => (c === "timestamp" ? usColumn(c) : c)).join(", ");
const BY_KEY = "app_name = ? AND user_id = ? AND id = ?";
const asBit = (value: boolean) => (value ? 1 : 0);
const keyArgs = (key: SessionKey) => [key.appName, key.userId, key.sessionId];
const json = (value: JsonObject) => JSON.stringify(value);

/**
 * MySQL 8.0+ and MariaDB 10.11+ through mysql2's pool, with SQL both accept
 * unchanged. Appends lock the session row (SELECT … FOR UPDATE), which
 * serializes writers of one session and keeps sequences gapless; shared
 * state rows are locked the same way before they change. Transactions that
 * lose a deadlock or a lock wait are retried from the start.
 */
export class MysqlStore implements Store {
  readonly kind = "mysql";
  private closed = false;

  private constructor(
    private readonly pool: MysqlPool,
    private readonly settings: MysqlSettings,
    private readonly t: TableNames = settings.tables,
    private packetBytes = 4 * 1024 * 1024,
  ) {}

  /** Connects to `mysql://user:password@host:port/database?options` (or `mariadb://`); see docs/stores.md for the options. */
  static async open(url: string, options: MysqlOptions = {}): Promise<MysqlStore> {
    const settings = parseMysqlUrl(url);
    const store = new MysqlStore(new MysqlPool(settings), settings);
    try {
      if (!options.mustExist && (options.autoMigrate ?? settings.autoMigrate ?? true)) await store.migrate();
      else await requireMysqlSchema(store.pool, settings, options.mustExist);
      const [server] = await store.pool.query("SELECT @@max_allowed_packet AS bytes, VERSION() AS version");
      store.packetBytes = Number(server!.bytes);
      store.pool.flavor = String(server!.version).includes("MariaDB") ? "mariadb" : "mysql";
      return store;
    } catch (error) {
      await store.close();
      if (error instanceof SessiondError) throw error;
      // Driver messages name the cause (refused, unknown database, denied login) but never the password.
      const where = `MySQL database ${JSON.stringify(settings.database)} at ${settings.host}:${settings.port}`;
      if (options.mustExist && errno(error) === ER_BAD_DB_ERROR) throw new SessiondError("not_found", `store: ${where} does not exist`);
      throw new SessiondError("unavailable", `store: cannot open ${where}: ${(error as Error).message}`);
    }
  }

  /** Applies the migrations the database lacks; concurrent callers wait for each other. */
  async migrate(): Promise<void> {
    await migrateMysql(this.pool, this.settings);
  }

  async createSession(input: NewSession): Promise<SessionView> {
    const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
    const state = applyDelta({}, input.delta.session);
    return this.pool.transaction(async (c) => {
      const now = datetimeFromUs(input.nowUs);
      try {
        await c.query(
          `INSERT INTO ${this.t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
           VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, 0)`,
          [input.appName, input.userId, input.id, input.agentId, json(state), json(input.metadata), now, now],
        );
      } catch (error) {
        if (errno(error) === ER_DUP_ENTRY) throw sessionExists(key);
        throw error;
      }
      await applySharedDelta(c, this.t, input.appName, input.userId, input.delta, input.nowUs);
      const session: SessionRecord = {
        appName: input.appName,
        userId: input.userId,
        id: input.id,
        agentId: input.agentId,
        status: "active",
        state,
        metadata: input.metadata,
        createTimeUs: input.nowUs,
        updateTimeUs: input.nowUs,
        lastSequence: 0,
      };
      return { session, ...(await readSharedState(c, this.t, input.appName, input.userId)) };
    });
  }

  async getSession(key: SessionKey, query: RecentEventsQuery) {
    return this.pool.transaction(async (c) => {
      const found = await this.sessionRow(c, key, "");
      if (!found) throw sessionNotFound(key);
      const view = { session: found.record, ...(await readSharedState(c, this.t, key.appName, key.userId)) };
      const range = recentEventsRange(query, found.record.lastSequence);
      if (!range) return { view, events: [] };
      const after = range.afterTimeUs;
      const rows = await rowsOf(
        c,
        `SELECT ${EVENT_SELECT} FROM ${this.t.events} WHERE session_pk = ? AND sequence > ?${after === undefined ? "" : " AND timestamp >= ?"} ORDER BY sequence`,
        after === undefined ? [found.pk, range.afterSequence] : [found.pk, range.afterSequence, datetimeFromUs(after)],
      );
      return { view, events: rows.map((r) => eventFromRow(r as unknown as EventRow, usFromColumn)) };
    }, "read");
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    return this.pool.transaction(async (c) => {
      const found = await this.sessionRow(c, key, " FOR UPDATE");
      if (!found) throw sessionNotFound(key);
      const record = found.record;
      const next: SessionRecord = patchSession(record, patch);
      await c.query(`UPDATE ${this.t.sessions} SET status = ?, metadata = ?, agent_id = ?, updated_at = ? WHERE pk = ?`, [
        next.status,
        json(next.metadata),
        next.agentId,
        datetimeFromUs(next.updateTimeUs),
        found.pk,
      ]);
      return { session: next, ...(await readSharedState(c, this.t, key.appName, key.userId)) };
    });
  }

  async deleteSession(key: SessionKey): Promise<void> {
    await this.pool.transaction(async (c) => {
      const result = await run(c, `DELETE FROM ${this.t.sessions} WHERE ${BY_KEY}`, keyArgs(key));
      if (result.affectedRows === 0) throw sessionNotFound(key);
    });
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const desc = query.order === "desc";
    const { clauses, args } = conditions<string>([
      ["app_name = ?", query.appName],
      ["user_id = ?", query.userId],
      ["agent_id = ?", query.agentId],
      ["status = ?", query.status],
      ["created_at >= ?", timeArg(query.createTimeStartUs)],
      ["created_at < ?", timeArg(query.createTimeEndUs)],
    ]);
    // Expanded OR rather than a row comparison: both servers use the
    // (app_name, updated_at, user_id, id) index for this form.
    const op = desc ? "<" : ">";
    const keyset = query.after
      ? ` AND (updated_at ${op} ? OR (updated_at = ? AND (user_id ${op} ? OR (user_id = ? AND id ${op} ?))))`
      : "";
    const after = query.after;
    const keysetArgs = after ? [datetimeFromUs(after.updateTimeUs), datetimeFromUs(after.updateTimeUs), after.userId, after.userId, after.id] : [];
    const dir = desc ? "DESC" : "ASC";
    const sql = `SELECT ${SESSION_SELECT} FROM ${this.t.sessions} WHERE 1 = 1${clauses}${keyset}
      ORDER BY updated_at ${dir}, user_id ${dir}, id ${dir} LIMIT ? OFFSET ?`;
    return this.pool.transaction(async (c) => {
      const records = (await rowsOf(c, sql, [...args, ...keysetArgs, query.limit, query.offset])).map(sessionRecord);
      return this.views(c, query.appName, records);
    }, "read");
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    const only = query.only ? ` AND app_name IN (${query.only.map(() => "?").join(", ")})` : "";
    const after = query.after === undefined ? "" : " AND app_name > ?";
    const sql = `SELECT app_name, COUNT(*) AS n FROM ${this.t.sessions}
      WHERE app_name >= ? AND LEFT(app_name, LENGTH(?)) = ?${only}${after}
      GROUP BY app_name ORDER BY app_name LIMIT ?`;
    const args: (string | number)[] = [query.prefix, query.prefix, query.prefix, ...(query.only ?? [])];
    if (query.after !== undefined) args.push(query.after);
    return this.pool.transaction(async (c) => {
      const rows = await rowsOf(c, sql, [...args, query.limit]);
      return rows.map((r) => ({ appName: String(r.app_name), sessionCount: Number(r.n) }));
    }, "read");
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    return this.pool.transaction(async (c) => {
      const found = await this.sessionRow(c, key, " FOR UPDATE");
      if (!found) throw sessionNotFound(key);
      const { pk, record } = found;
      // The first non-locking read of the transaction comes after the lock,
      // so its snapshot holds every append committed before this one.
      const stored = new Map<string, AssignedEvent>();
      const ids = batch.events.map((p) => p.event.id);
      const hits = await rowsOf(
        c,
        `SELECT id, sequence, ${usColumn("timestamp")} FROM ${this.t.events} WHERE session_pk = ? AND id IN (?)`,
        [pk, ids],
      );
      for (const row of hits) {
        const id = String(row.id);
        stored.set(id, { id, sequence: Number(row.sequence), timestampUs: usFromColumn(row.timestamp) });
      }
      const plan = planAppend(batch, record.lastSequence, stored);
      if (plan.inserts.length === 0) return plan.outcome;
      await this.insertEvents(c, pk, plan.inserts, "");
      const state = plan.delta.session ? json(applyDelta(record.state, plan.delta.session)) : null;
      await c.query(`UPDATE ${this.t.sessions} SET last_sequence = ?, updated_at = ?, state = COALESCE(?, state) WHERE pk = ?`, [
        plan.outcome.lastSequence,
        datetimeFromUs(plan.updateTimeUs),
        state,
        pk,
      ]);
      await applySharedDelta(c, this.t, key.appName, key.userId, plan.delta, batch.nowUs);
      return plan.outcome;
    });
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    const { clauses, args } = eventFilterConditions(query.filter, datetimeFromUs);
    // One round trip per page; whether the session exists matters only when the page is empty.
    const rows = await this.pool.withConnection(async (c) => {
      const page = await rowsOf(
        c,
        `SELECT ${EVENT_SELECT} FROM ${this.t.events}
         WHERE session_pk = (SELECT pk FROM ${this.t.sessions} WHERE ${BY_KEY}) AND sequence > ?${clauses}
         ORDER BY sequence LIMIT ? OFFSET ?`,
        [...keyArgs(key), query.afterSequence, ...args, query.limit, query.offset ?? 0],
      );
      if (page.length === 0) {
        const [session] = await rowsOf(c, `SELECT pk FROM ${this.t.sessions} WHERE ${BY_KEY}`, keyArgs(key));
        if (!session) throw sessionNotFound(key);
      }
      return page;
    });
    return rows.map((r) => eventFromRow(r as unknown as EventRow, usFromColumn));
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    const { clauses, args } = conditions<string>([
      ["app_name = ?", scope.appName],
      ["user_id = ?", scope.userId],
      ["updated_at < ?", timeArg(scope.updatedBeforeUs)],
      ["status = ?", scope.status],
    ]);
    return this.pool.transaction(async (c) => {
      const result = await run(c, `DELETE FROM ${this.t.sessions} WHERE 1 = 1${clauses}`, args);
      const purge = statePurge(scope);
      if (purge.kind === "user") await c.query(`DELETE FROM ${this.t.userStates} WHERE app_name = ? AND user_id = ?`, [purge.appName, purge.userId]);
      if (purge.kind === "app") {
        await c.query(`DELETE FROM ${this.t.appStates} WHERE app_name = ?`, [purge.appName]);
        await c.query(`DELETE FROM ${this.t.userStates} WHERE app_name = ?`, [purge.appName]);
      }
      return result.affectedRows;
    });
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    const where = after ? "WHERE app_name > ? OR (app_name = ? AND (user_id > ? OR (user_id = ? AND id > ?)))" : "";
    const args = after ? [after.appName, after.appName, after.userId, after.userId, after.sessionId] : [];
    const sql = `SELECT ${SESSION_SELECT} FROM ${this.t.sessions} ${where} ORDER BY app_name, user_id, id LIMIT ?`;
    return (await this.pool.query(sql, [...args, limit])).map(sessionRecord);
  }

  async restoreSession(s: SessionRecord): Promise<void> {
    await this.pool.transaction((c) =>
      c.query(
        `INSERT INTO ${this.t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE agent_id = VALUES(agent_id), status = VALUES(status), state = VALUES(state),
           metadata = VALUES(metadata), created_at = VALUES(created_at), updated_at = VALUES(updated_at),
           last_sequence = GREATEST(last_sequence, VALUES(last_sequence))`,
        [
          ...[s.appName, s.userId, s.id, s.agentId, s.status, json(s.state), json(s.metadata)],
          ...[datetimeFromUs(s.createTimeUs), datetimeFromUs(s.updateTimeUs), s.lastSequence],
        ],
      ),
    );
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    await this.pool.transaction(async (c) => {
      const [session] = await rowsOf(c, `SELECT pk FROM ${this.t.sessions} WHERE ${BY_KEY} FOR UPDATE`, keyArgs(key));
      if (!session) throw sessionNotFound(key);
      const pk = Number(session.pk);
      const [stored] = await rowsOf(c, `SELECT COALESCE(MAX(sequence), 0) AS top FROM ${this.t.events} WHERE session_pk = ?`, [pk]);
      // A no-op update skips rows whose id is already stored.
      await this.insertEvents(c, pk, eventsToRestore(events, Number(stored!.top)), " ON DUPLICATE KEY UPDATE sequence = sequence");
      await c.query(
        `UPDATE ${this.t.sessions} SET last_sequence = GREATEST(last_sequence,
           (SELECT COALESCE(MAX(sequence), 0) FROM ${this.t.events} WHERE session_pk = ?)) WHERE pk = ?`,
        [pk, pk],
      );
    });
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    const now = datetimeFromUs(nowUs());
    await this.pool.transaction(async (c) => {
      if (state.appState) await writeAppState(c, this.t, appName, state.appState, now);
      if (state.userState) await writeUserState(c, this.t, appName, userId, state.userState, now);
    });
  }

  async getSharedState(appName: string, userId: string) {
    return this.pool.withConnection((c) => readSharedState(c, this.t, appName, userId));
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  poolStats(): PoolStats {
    return this.pool.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  private async sessionRow(c: Connection, key: SessionKey, lock: string) {
    const [row] = await rowsOf(c, `SELECT ${SESSION_SELECT} FROM ${this.t.sessions} WHERE ${BY_KEY}${lock}`, keyArgs(key));
    return row ? { pk: Number(row.pk), record: sessionRecord(row) } : undefined;
  }

  private async views(c: Connection, appName: string, records: SessionRecord[]): Promise<SessionView[]> {
    if (records.length === 0) return [];
    const { appState, userStates } = await readSharedStates(c, this.t, appName, [...new Set(records.map((r) => r.userId))]);
    return records.map((session) => ({ session, appState, userState: userStates.get(session.userId) ?? {} }));
  }

  /**
   * Inserts events with multi-row INSERTs: one statement for a usual batch,
   * split only where a statement would come near max_allowed_packet.
   */
  private async insertEvents(c: Connection, pk: number, events: StoredEvent[], onDuplicate: string): Promise<void> {
    const budget = this.packetBytes / 2;
    let chunk: unknown[][] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await c.query(`INSERT INTO ${this.t.events} (session_pk, ${EVENT_COLUMNS.join(", ")}) VALUES ?${onDuplicate}`, [chunk]);
      chunk = [];
      bytes = 0;
    };
    for (const event of events) {
      const values = [pk, ...eventRow(event, datetimeFromUs, asBit)];
      // Escaping at most doubles a string; 16 bytes cover each value's quotes and separators.
      const size = values.reduce<number>((n, v) => n + 16 + (typeof v === "string" ? 2 * Buffer.byteLength(v) : 0), 0);
      if (bytes + size > budget) await flush();
      chunk.push(values);
      bytes += size;
    }
    await flush();
  }
}

function sessionRecord(row: Row): SessionRecord {
  return sessionFromRow(row as unknown as SessionRow, usFromColumn);
}

function timeArg(us: number | undefined): string | undefined {
  return us === undefined ? undefined : datetimeFromUs(us);
}
