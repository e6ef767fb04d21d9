import { planAppend } from "../../core/append.js";
import { statePurge } from "../../core/delete-scope.js";
import { sessionExists, sessionNotFound } from "../../core/errors.js";
import { markersOf, type RewindMarker } from "../../core/effective-history.js";
import { eventsToRestore } from "../../core/restore.js";
import { forkedSessionRecord, newSessionRecord, patchSession } from "../../core/session-patch.js";
import { applyDelta } from "../../core/state.js";
import { nowUs } from "../../core/time.js";
import type {
  AppListQuery,
  AppSummary,
  AppendBatch,
  AppendOutcome,
  AssignedEvent,
  DeleteScope,
  EventActions,
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
} from "../../core/types.js";
import type { PoolStats, Store } from "../store.js";
import { keyset, type SqlDialect } from "./dialect.js";
import type { Row, SqlDriver, SqlTx } from "./driver.js";
import { conditions, eventFromRow, eventValues, parseJson, sessionFromRow } from "./rows.js";
import { migrateSchema } from "./schema.js";
import { type SqlStatements, type StateScope, sqlStatements } from "./statements.js";

const keyArgs = (key: SessionKey) => [key.appName, key.userId, key.sessionId];
const json = (value: JsonObject) => JSON.stringify(value);
/** Sessions per DELETE of a purge: well within every database's limit on parameters. */
const DELETE_CHUNK = 500;

/**
 * The Store over any SQL database: a {@link SqlDriver} runs the statements
 * a {@link SqlDialect} spells. Writes run in write transactions that lock
 * the session row (SQLite: the file) before reading it, so appends to one
 * session are serialized and sequences stay gapless; shared state rows are
 * locked the same way before they change. Domain rules come from src/core.
 */
export class SqlStore implements Store {
  readonly kind: string;
  readonly keepsEncodedTails = true;
  readonly streamPageSize?: number;
  protected readonly s: SqlStatements;
  /** The driver's pool figures, where it has a pool. */
  readonly poolStats?: () => PoolStats;

  constructor(
    protected readonly db: SqlDriver,
    protected readonly d: SqlDialect,
  ) {
    this.kind = d.name;
    this.s = sqlStatements(d);
    this.streamPageSize = d.streamPageSize;
    if (db.poolStats) this.poolStats = () => db.poolStats!();
  }

  /** Applies the migrations this version has and the database lacks. */
  async migrate(): Promise<void> {
    await migrateSchema(this.db, this.d);
  }

  async createSession(input: NewSession): Promise<SessionView> {
    const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
    const session = newSessionRecord(input);
    return this.db.transaction("write", async (tx) => {
      const inserted = tx.run(this.s.insertSession, this.sessionArgs(session, session.state)).catch((error: unknown) => {
        throw this.d.isDuplicate(error) ? sessionExists(key) : error;
      });
      const shared = () => this.sharedState(tx, input.appName, input.userId, true);
      const [, view] = await settled([inserted, this.applyShared(tx, input.appName, input.userId, input.delta, input.nowUs, shared)]);
      return { session, ...view };
    });
  }

  async getSession(key: SessionKey, query: RecentEventsQuery) {
    return this.db.transaction("read", async (tx) => {
      // Sent together: the events' range is computed from the session row in SQL (see recentEvents).
      const n = query.numRecentEvents;
      const args = [...keyArgs(key), ...(n === undefined ? [] : [n]), ...(query.afterTimeUs === undefined ? [] : [this.d.time(query.afterTimeUs)])];
      const recent = (encoded: boolean) => tx.run(this.s.recentEvents(n !== undefined, query.afterTimeUs !== undefined, encoded), args);
      const [{ rows }, events] = await settled([tx.run(this.s.sessionWithState, keyArgs(key)), n === 0 ? undefined : recent(query.encoded ?? false)]);
      if (!rows[0]) throw sessionNotFound(key);
      let eventRows = events?.rows ?? [];
      // As in readEvents: events without a tail are read whole (the same snapshot).
      if (query.encoded && !eventRows.every((row) => row.encoded)) eventRows = (await recent(false)).rows;
      return { view: viewOf(rows[0]), events: eventRows.map(eventFromRow) };
    });
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    return this.db.transaction("write", async (tx) => {
      const [{ rows }, shared] = await settled([tx.run(this.s.session(true), keyArgs(key)), this.sharedState(tx, key.appName, key.userId)]);
      if (!rows[0]) throw sessionNotFound(key);
      const next = patchSession(sessionFromRow(rows[0]), patch);
      await tx.run(this.s.updateSession, [next.status, json(next.metadata), next.agentId, this.d.time(next.updateTimeUs), rows[0].pk], { last: true });
      return { session: next, ...shared };
    });
  }

  async deleteSession(key: SessionKey): Promise<void> {
    await this.db.transaction("write", async (tx) => {
      // Sent together, the lock first: an append holding it commits before the events are deleted, and one after it finds no session.
      const args = keyArgs(key);
      const [, , { changes }] = await settled([tx.run(this.s.sessionPk(true), args), tx.run(this.s.deleteSessionEvents, args), tx.run(this.s.deleteSession, args)]);
      if (changes === 0) throw sessionNotFound(key);
      await this.d.notify?.(tx, [key]);
    });
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const t = (us: number | undefined) => (us === undefined ? undefined : this.d.time(us));
    const { clauses, args } = conditions([
      ["s.app_name = ?", query.appName],
      ["s.user_id = ?", query.userId],
      ["s.agent_id = ?", query.agentId],
      ["s.status = ?", query.status],
      ["s.created_at >= ?", t(query.createTimeStartUs)],
      ["s.created_at < ?", t(query.createTimeEndUs)],
      ["s.forked_from_session_id = ?", query.forkedFromSessionId],
    ]);
    const desc = query.order === "desc";
    let where = clauses;
    if (query.after) {
      const after = keyset(this.d, ["s.updated_at", "s.user_id", "s.id"], desc ? "<" : ">", [t(query.after.updateTimeUs), query.after.userId, query.after.id]);
      where += ` AND (${after.sql})`;
      args.push(...after.args);
    }
    const { rows } = await this.db.run(this.s.listSessions(where, desc ? "DESC" : "ASC"), [...args, query.limit, query.offset]);
    return rows.map(viewOf);
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    const only = query.only ?? [];
    const args: unknown[] = [query.prefix, query.prefix, query.prefix, ...only];
    if (query.after !== undefined) args.push(query.after);
    const { rows } = await this.db.run(this.s.listApps(query.only ? only.length : 0, query.after !== undefined), [...args, query.limit]);
    return rows.map((r) => ({ appName: String(r.app_name), sessionCount: Number(r.n) }));
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    const fast = this.d.append ? await this.d.append(key, batch) : undefined;
    if (fast) return fast;
    return this.db.transaction("write", async (tx) => {
      // The lock comes first: every later read of the transaction sees the appends committed before it.
      const [row] = (await tx.run(this.s.session(true), keyArgs(key))).rows;
      if (!row) throw sessionNotFound(key);
      const record = sessionFromRow(row);
      const plan = planAppend(batch, record.lastSequence, await this.storedIds(tx, row.pk, batch.events.map((p) => p.event.id)));
      if (plan.inserts.length === 0) return plan.outcome;
      await this.insertEvents(tx, row.pk, plan.inserts, false);
      const state = plan.delta.session ? json(applyDelta(record.state, plan.delta.session)) : null;
      await tx.run(this.s.advanceSession, [plan.outcome.lastSequence, this.d.time(plan.updateTimeUs), state, row.pk]);
      await this.applyShared(tx, key.appName, key.userId, plan.delta, batch.nowUs, async () => this.d.notify?.(tx, [key]));
      return plan.outcome;
    });
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    let rows = await this.eventPage(key, query, query.encoded ?? false);
    // Events stored before tails were kept (or imported) are read again whole, and encoded by the caller.
    if (query.encoded && !rows.every((row) => row.encoded)) rows = await this.eventPage(key, query, false);
    // Whether the session exists matters only when the page is empty.
    if (rows.length === 0 && (await this.db.run(this.s.sessionPk(false), keyArgs(key))).rows.length === 0) throw sessionNotFound(key);
    return rows.map(eventFromRow);
  }

  private async eventPage(key: SessionKey, query: EventPageQuery, encoded: boolean): Promise<Row[]> {
    const f = query.filter;
    const t = (us: number | undefined) => (us === undefined ? undefined : this.d.time(us));
    const ts = this.s.eventTime;
    const { clauses, args } = conditions([
      ["invocation_id = ?", f.invocationId],
      ["agent_id = ?", f.agentId],
      ["author = ?", f.author],
      ["branch = ?", f.branch],
      [`${ts} >= ?`, t(f.startTimeUs)],
      [`${ts} < ?`, t(f.endTimeUs)],
    ]);
    const sql = this.s.readEvents(clauses, encoded);
    const allArgs = [...keyArgs(key), query.afterSequence, ...args, query.limit, query.offset ?? 0];
    const ordered = this.d.orderedScan;
    if (!ordered || args.length > 0) return (await this.db.run(sql, allArgs)).rows;
    return this.db.transaction("read", async (tx) => {
      // Sent together: the settings and the page travel in one round trip where the driver pipelines.
      const results = await Promise.all([...ordered.map((statement) => tx.run(statement)), tx.run(sql, allArgs)]);
      return results.at(-1)!.rows;
    });
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    const { clauses, args } = conditions([
      ["app_name = ?", scope.appName],
      ["user_id = ?", scope.userId],
      ["updated_at < ?", scope.updatedBeforeUs === undefined ? undefined : this.d.time(scope.updatedBeforeUs)],
      ["status = ?", scope.status],
    ]);
    return this.db.transaction("write", async (tx) => {
      const notify = this.d.notify;
      // Deleted by the keys of the rows locked here, events first (see deleteSession); a session created
      // meanwhile is left alone, and its events with it.
      const doomed = (await tx.run(this.s.lockSessions(clauses), args)).rows;
      const deletions = [];
      for (let i = 0; i < doomed.length; i += DELETE_CHUNK) {
        const pks = doomed.slice(i, i + DELETE_CHUNK).map((r) => r.pk);
        deletions.push(tx.run(this.s.deleteEventsOf(pks.length), pks), tx.run(this.s.deleteSessionsByPk(pks.length), pks));
      }
      await settled(deletions);
      const purge = statePurge(scope);
      if (purge.kind === "user") await tx.run(this.s.deleteState("user"), [purge.appName, purge.userId]);
      if (purge.kind === "app") {
        await tx.run(this.s.deleteState("allUsers"), [purge.appName]);
        await tx.run(this.s.deleteState("app"), [purge.appName]);
      }
      if (notify && doomed.length > 0) {
        await notify(tx, doomed.map((r) => ({ appName: String(r.app_name), userId: String(r.user_id), sessionId: String(r.id) })));
      }
      return doomed.length;
    });
  }

  async getSharedState(appName: string, userId: string) {
    const { rows } = await this.db.run(this.s.sharedState, [appName, appName, userId]);
    return { appState: parseJson(rows[0]?.app_state) ?? {}, userState: parseJson(rows[0]?.user_state) ?? {} };
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    const from = after && keyset(this.d, ["app_name", "user_id", "id"], ">", keyArgs(after));
    const { rows } = await this.db.run(this.s.scanSessions(from ? ` WHERE ${from.sql}` : ""), [...(from?.args ?? []), limit]);
    return rows.map(sessionFromRow);
  }

  async restoreSession(session: SessionRecord): Promise<void> {
    // A restored row has no initial state of its own; an existing row keeps its.
    await this.db.transaction("write", (tx) => tx.run(this.s.restoreSession, this.sessionArgs(session, null)));
  }

  async readRewindMarkers(key: SessionKey, through: number): Promise<RewindMarker[]> {
    const { rows } = await this.db.run(this.s.rewindMarkers, [...keyArgs(key), through]);
    if (rows.length === 0 && (await this.db.run(this.s.sessionPk(false), keyArgs(key))).rows.length === 0) throw sessionNotFound(key);
    return markersOf(rows.map((r) => ({ sequence: Number(r.sequence), actions: parseJson<EventActions>(r.actions) })));
  }

  async readInitialState(key: SessionKey): Promise<JsonObject | null> {
    const [row] = (await this.db.run(this.s.initialState, keyArgs(key))).rows;
    if (!row) throw sessionNotFound(key);
    return parseJson(row.initial_state);
  }

  async forkSession(plan: ForkPlan): Promise<SessionView> {
    const session = forkedSessionRecord(plan);
    return this.db.transaction("write", async (tx) => {
      // Locked, so the source is neither deleted nor appended to while its rows are copied.
      const [source] = (await tx.run(this.s.session(true), keyArgs(plan.source))).rows;
      if (!source || Number(source.last_sequence) < plan.throughSequence) throw sessionNotFound(plan.source);
      const inserted = tx.run(this.s.insertSession, this.sessionArgs(session, plan.initialState)).catch((error: unknown) => {
        throw this.d.isDuplicate(error) ? sessionExists(plan.target) : error;
      });
      let next = 1;
      const copied = plan.ranges.map((range) => {
        const shift = next - range.first;
        next += range.last - range.first + 1;
        return tx.run(this.s.copyEvents, [shift, ...keyArgs(plan.target), source.pk, range.first, range.last]);
      });
      const [, shared] = await settled([inserted, this.sharedState(tx, plan.target.appName, plan.target.userId, true), ...copied]);
      return { session, ...shared };
    });
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    await this.db.transaction("write", async (tx) => {
      const [row] = (await tx.run(this.s.session(true), keyArgs(key))).rows;
      if (!row) throw sessionNotFound(key);
      const [stored] = (await tx.run(this.s.topSequence, [row.pk])).rows;
      await this.insertEvents(tx, row.pk, eventsToRestore(events, Number(stored!.top)), true);
      await tx.run(this.s.raiseLastSequence, [row.pk, row.pk]);
    });
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    const now = this.d.time(nowUs());
    await this.db.transaction("write", async (tx) => {
      if (state.appState) await tx.run(this.s.putState("app"), [appName, json(state.appState), now]);
      if (state.userState) await tx.run(this.s.putState("user"), [appName, userId, json(state.userState), now]);
    });
  }

  async ping(): Promise<void> {
    await this.db.ping();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private sessionArgs(s: SessionRecord, initialState: JsonObject | null): unknown[] {
    const { appName, userId, id, agentId, status, state, metadata, forkedFrom } = s;
    return [
      ...[appName, userId, id, agentId, status, json(state), json(metadata), this.d.time(s.createTimeUs), this.d.time(s.updateTimeUs), s.lastSequence],
      initialState === null ? null : json(initialState),
      ...(forkedFrom ? [forkedFrom.sessionId, forkedFrom.userId, forkedFrom.sequence] : [null, null, null]),
    ];
  }

  private async sharedState(tx: SqlTx, appName: string, userId: string, last = false) {
    const [row] = (await tx.run(this.s.sharedState, [appName, appName, userId], { last })).rows;
    return { appState: parseJson(row?.app_state) ?? {}, userState: parseJson(row?.user_state) ?? {} };
  }

  /** The batch's ids that are stored already, with what they were assigned. */
  private async storedIds(tx: SqlTx, pk: unknown, ids: string[]): Promise<Map<string, AssignedEvent>> {
    const stored = new Map<string, AssignedEvent>();
    if (ids.length === 0) return stored;
    const groups = this.d.lookupEachId ? ids.map((id) => [id]) : [ids];
    // Issued together: no wait between lookups (SQLite answers each at once, PostgreSQL pipelines them).
    for (const { rows } of await Promise.all(groups.map((group) => tx.run(this.s.storedIds(group.length), [pk, ...group])))) {
      for (const row of rows) {
        const id = String(row.id);
        stored.set(id, { id, sequence: Number(row.sequence), timestampUs: Number(row.timestamp) });
      }
    }
    return stored;
  }

  private async insertEvents(tx: SqlTx, pk: unknown, events: StoredEvent[], skipStored: boolean): Promise<void> {
    const rows = events.map((event) => [pk, ...eventValues(event, (us) => this.d.time(us))]);
    const chunks = this.d.eventChunks ? this.d.eventChunks(rows) : rows.map((row) => [row]);
    await Promise.all(chunks.map((chunk) => tx.run(this.s.insertEvents(chunk.length, skipStored), chunk.flat())));
  }

  /**
   * Applies the app and user parts of a delta under row locks. Where rows
   * are locked (not SQLite), a missing row is first created empty, so
   * concurrent first writers queue on one row lock instead of deadlocking
   * on gap locks; the locking read then returns the newest committed state.
   * Both scopes' locks go out at once, then both writes, with `then` (the
   * caller's next statements) right behind them.
   */
  private async applyShared<T>(tx: SqlTx, appName: string, userId: string, delta: ScopedDelta, nowUs: number, then: () => Promise<T>): Promise<T> {
    const now = this.d.time(nowUs);
    const scopes = (
      [
        ["app", delta.app, [appName]],
        ["user", delta.user, [appName, userId]],
      ] as [StateScope, JsonObject | null, unknown[]][]
    ).filter(([, part]) => part !== null);
    const states = await settled(
      scopes.map(([scope, , keys]) => {
        if (this.d.forUpdate) void tx.run(this.s.touchState(scope), [...keys, now]);
        return tx.run(this.s.lockState(scope), keys);
      }),
    );
    const written = scopes.map(([scope, part, keys], i) =>
      tx.run(this.s.putState(scope), [...keys, json(applyDelta(parseJson(states[i]!.rows[0]?.state) ?? {}, part!)), now]),
    );
    const [result] = await settled([then(), ...written]);
    return result as T;
  }
}

/**
 * The values of statements issued together, once all have settled; throws
 * the first failure in issue order. Promise.all would throw whichever
 * settles first, which in a failed transaction may be a later statement
 * refused because of it rather than the failure itself (a duplicate key,
 * say, that becomes ALREADY_EXISTS).
 */
async function settled<T extends readonly unknown[]>(parts: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(parts);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

function viewOf(row: Row): SessionView {
  return { session: sessionFromRow(row), appState: parseJson(row.app_state) ?? {}, userState: parseJson(row.user_state) ?? {} };
}
