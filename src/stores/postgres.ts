import postgres, { type PendingQuery, type ReservedSql, type Row, type Sql } from "postgres";
import { statePurge } from "../core/delete-scope.js";
import { sessionExists, sessionNotFound, sequenceConflict } from "../core/errors.js";
import { eventsToRestore } from "../core/restore.js";
import { nowUs } from "../core/time.js";
import { applyDelta } from "../core/state.js";
import type {
  AppListQuery,
  AppSummary,
  AppendBatch,
  AppendOutcome,
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
import { appendFresh, appendPlanned } from "./private/postgres-append.js";
import { NotifyHub, notifyChannel, sessionTopic } from "./private/postgres-notify.js";
import { parsePostgresUrl } from "./private/postgres-options.js";
import { migratePostgres, type PostgresTables, postgresTables, requirePostgresSchema } from "./private/postgres-schema.js";
import {
  begin,
  commit,
  eventColumns,
  eventFilter,
  eventRecord,
  eventRecords,
  join,
  pipeline,
  postgresError,
  sessionColumns,
  sharedState,
  sharedUpsert,
  stateColumns,
  type TableFragments,
  timestamp,
  transaction,
} from "./private/postgres-sql.js";
import { callBudgetMs, type EventRow, eventFromRow, type SessionRow, sessionFromRow } from "./private/sql.js";
import type { PoolStats, Store } from "./store.js";

/** Options of the PostgreSQL store beside its URL. */
export interface PostgresOptions {
  /** Create or upgrade the schema on open; wins over the URL's auto_migrate (default true). */
  autoMigrate?: boolean;
  /** Fail (not_found) unless the schema exists with its tables; create and migrate nothing. */
  mustExist?: boolean;
}

type Conn = ReservedSql;

/**
 * PostgreSQL through the `postgres` driver. Every method borrows one pooled
 * connection and sends its statements as a pipeline, so most calls cost one
 * round trip, appends too unless they are retries or conflict (then two
 * more: lock and look up, then write and commit).
 * Times are read and written as integer microseconds so TIMESTAMPTZ keeps
 * its full precision.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  private readonly hub: NotifyHub;
  /** Table names as SQL fragments. */
  private readonly t: TableFragments;
  private inUse = 0;
  private waiting = 0;

  private constructor(
    private readonly sql: Sql,
    private readonly tables: PostgresTables,
    private readonly poolSize: number,
  ) {
    this.hub = new NotifyHub(sql, notifyChannel(tables.schema, tables.prefix));
    const q = tables.quoted;
    const name = (quoted: string) => sql.unsafe(quoted) as PendingQuery<Row[]>;
    this.t = { sessions: name(q.sessions), events: name(q.events), appStates: name(q.appStates), userStates: name(q.userStates) };
  }

  /** Opens a pool for a `postgres://` or `postgresql://` URL and migrates (or checks) the schema. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const parsed = parsePostgresUrl(url);
    const tables = postgresTables(parsed.schema, parsed.tablePrefix);
    const sql = postgres(parsed.driverUrl, {
      max: parsed.max,
      idle_timeout: parsed.idleTimeout,
      max_lifetime: parsed.maxLifetime ?? undefined,
      ssl: parsed.ssl,
      onnotice: () => {},
      // Seconds before a closed connection reconnects: the driver's default grows to 20 s during an
      // outage, so the pool would come back long after the server does.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.25),
      // Statements stay prepared, but are planned for their parameters: a generic plan made
      // while a table was small (a fresh deployment) or for a small app would stick otherwise.
      connection: { application_name: "sessiond", plan_cache_mode: "force_custom_plan" },
    });
    const store = new PostgresStore(sql, tables, parsed.max);
    try {
      if (!options.mustExist && (options.autoMigrate ?? parsed.autoMigrate ?? true)) await store.migrate();
      else await requirePostgresSchema(sql, tables, options.mustExist);
    } catch (error) {
      await sql.end({ timeout: 0 });
      throw postgresError(error, { detail: true });
    }
    return store;
  }

  /** The LISTEN/NOTIFY channel appends are announced on. */
  get channel(): string {
    return this.hub.channel;
  }

  /** Creates the schema when missing and applies the migrations it lacks. */
  async migrate(): Promise<void> {
    await migratePostgres(this.sql, this.tables);
  }

  async createSession(input: NewSession): Promise<SessionView> {
    const t = this.t;
    const key = { appName: input.appName, userId: input.userId, sessionId: input.id };
    return this.use(async (c) => {
      const now = timestamp(c, input.nowUs);
      const shared = [
        ...(input.delta.app ? [sharedUpsert(c, t.appStates, [input.appName], input.delta.app, input.nowUs)] : []),
        ...(input.delta.user ? [sharedUpsert(c, t.userStates, [input.appName, input.userId], input.delta.user, input.nowUs)] : []),
      ];
      const results = await transaction(c, [
        c`INSERT INTO ${t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
          VALUES (${input.appName}, ${input.userId}, ${input.id}, ${input.agentId}, 'active',
            ${c.json(applyDelta({}, input.delta.session))}, ${c.json(input.metadata)}, ${now}, ${now}, 0)
          RETURNING ${sessionColumns(c)}`,
        ...shared,
        sharedState(c, t, input.appName, input.userId),
      ]).catch((error) => {
        throw (error as { code?: string }).code === "23505" ? sessionExists(key) : error;
      });
      return viewOf(results[0]![0], results.at(-1)![0]);
    });
  }

  async getSession(key: SessionKey, query: RecentEventsQuery) {
    const t = this.t;
    return this.use(async (c) => {
      const pk = this.pkOf(c, key);
      const events: PendingQuery<Row[]>[] = [];
      if (query.numRecentEvents === undefined) {
        const after = query.afterTimeUs === undefined ? c`` : c`AND "timestamp" >= ${timestamp(c, query.afterTimeUs)}`;
        events.push(c`SELECT ${eventColumns(c)} FROM ${t.events} WHERE session_pk = ${pk} ${after} ORDER BY sequence`);
      } else if (query.numRecentEvents > 0) {
        const after = query.afterTimeUs === undefined ? c`` : c`WHERE x."timestamp" >= ${query.afterTimeUs}`;
        events.push(c`SELECT * FROM (SELECT ${eventColumns(c)} FROM ${t.events} WHERE session_pk = ${pk}
          ORDER BY sequence DESC LIMIT ${query.numRecentEvents}) x ${after} ORDER BY sequence`);
      }
      // The newest N are the last rows of the primary key: see orderedScan.
      const settings = query.numRecentEvents !== undefined && query.numRecentEvents > 0 ? orderedScan(c) : [];
      const results = await transaction(c, [...settings, this.sessionWithState(c, key), ...events], "ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const [session, ...rest] = results.slice(settings.length);
      if (!session![0]) throw sessionNotFound(key);
      return { view: viewOf(session![0], session![0]), events: (rest[0] ?? []).map(toEvent) };
    });
  }

  async updateSession(key: SessionKey, patch: SessionPatch): Promise<SessionView> {
    const t = this.t;
    return this.use(async (c) => {
      const expected = patch.expectedLastSequence ?? null;
      // In a transaction, for the commit guard (see commit); still one round trip.
      const [rows] = await transaction(c, [c`
        UPDATE ${t.sessions} AS s SET status = coalesce(${patch.status ?? null}, s.status),
          metadata = coalesce(${patch.metadata ? c.json(patch.metadata) : null}::jsonb, s.metadata),
          agent_id = coalesce(${patch.agentId ?? null}, s.agent_id), updated_at = ${timestamp(c, patch.nowUs)}
        WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}
          AND (${expected}::int8 IS NULL OR last_sequence = ${expected}::int8)
        RETURNING ${sessionColumns(c, "s")}, ${stateColumns(c, this.t, "s")}`]);
      const updated = rows![0];
      if (updated) return viewOf(updated, updated);
      const [found] = await c`SELECT last_sequence FROM ${t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}`;
      if (!found) throw sessionNotFound(key);
      throw sequenceConflict(expected ?? 0, Number(found.last_sequence));
    });
  }

  async deleteSession(key: SessionKey): Promise<void> {
    const t = this.t;
    await this.use(async (c) => {
      const [result] = await transaction(c, [c`DELETE FROM ${t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}`]);
      if (result!.count === 0) throw sessionNotFound(key);
      await this.announce(c, [key]);
    });
  }

  async listSessions(query: SessionListQuery): Promise<SessionView[]> {
    const t = this.t;
    const desc = query.order === "desc";
    return this.use(async (c) => {
      const keyset = query.after
        ? desc
          ? c`AND (s.updated_at, s.user_id, s.id) < (${timestamp(c, query.after.updateTimeUs)}, ${query.after.userId}, ${query.after.id})`
          : c`AND (s.updated_at, s.user_id, s.id) > (${timestamp(c, query.after.updateTimeUs)}, ${query.after.userId}, ${query.after.id})`
        : c``;
      const filters = join(c, [
        query.userId !== undefined && c`AND s.user_id = ${query.userId}`,
        query.agentId !== undefined && c`AND s.agent_id = ${query.agentId}`,
        query.status !== undefined && c`AND s.status = ${query.status}`,
        query.createTimeStartUs !== undefined && c`AND s.created_at >= ${timestamp(c, query.createTimeStartUs)}`,
        query.createTimeEndUs !== undefined && c`AND s.created_at < ${timestamp(c, query.createTimeEndUs)}`,
      ]);
      const order = desc ? c`ORDER BY s.updated_at DESC, s.user_id DESC, s.id DESC` : c`ORDER BY s.updated_at, s.user_id, s.id`;
      const rows = await c`
        SELECT ${sessionColumns(c, "s")}, ${stateColumns(c, this.t, "s")} FROM ${t.sessions} s
        WHERE s.app_name = ${query.appName} ${filters} ${keyset}
        ${order} LIMIT ${query.limit} ${query.offset > 0 ? c`OFFSET ${query.offset}` : c``}`;
      return rows.map((row) => viewOf(row, row));
    });
  }

  async listApps(query: AppListQuery): Promise<AppSummary[]> {
    return this.use(async (c) => {
      const rows = await c`
        SELECT app_name, COUNT(*)::int8 AS n FROM ${this.t.sessions}
        WHERE app_name >= ${query.prefix} AND starts_with(app_name, ${query.prefix})
        ${join(c, [
          query.only !== undefined && c`AND app_name IN ${c(query.only as string[])}`,
          query.after !== undefined && c`AND app_name > ${query.after}`,
        ])}
        GROUP BY app_name ORDER BY app_name LIMIT ${query.limit}`;
      return rows.map((r) => ({ appName: r.app_name as string, sessionCount: Number(r.n) }));
    });
  }

  async appendEvents(key: SessionKey, batch: AppendBatch): Promise<AppendOutcome> {
    const channel = this.hub.channel;
    return this.use(
      async (c) => (await appendFresh(c, this.t, channel, key, batch)) ?? (await appendPlanned(c, this.t, channel, key, batch)),
      { openTransaction: true },
    );
  }

  async readEvents(key: SessionKey, query: EventPageQuery): Promise<StoredEvent[]> {
    const t = this.t;
    return this.use(async (c) => {
      const select = c`
        SELECT ${eventColumns(c)} FROM ${t.events}
        WHERE session_pk = ${this.pkOf(c, key)} AND sequence > ${query.afterSequence} ${eventFilter(c, query.filter)}
        ORDER BY sequence LIMIT ${query.limit} ${query.offset ? c`OFFSET ${query.offset}` : c``}`;
      // Unfiltered pages are the next rows of the primary key: see orderedScan.
      const unfiltered = Object.values(query.filter).every((v) => v === undefined);
      const rows = unfiltered ? (await transaction(c, [...orderedScan(c), select], "READ ONLY"))[2]! : await select;
      if (rows.length === 0) {
        const [exists] = await c`SELECT 1 FROM ${t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId}`;
        if (!exists) throw sessionNotFound(key);
      }
      return rows.map(toEvent);
    });
  }

  async deleteSessions(scope: DeleteScope): Promise<number> {
    const t = this.t;
    return this.use(async (c) => {
      const where = join(c, [
        scope.appName !== undefined && c`AND app_name = ${scope.appName}`,
        scope.userId !== undefined && c`AND user_id = ${scope.userId}`,
        scope.updatedBeforeUs !== undefined && c`AND updated_at < ${timestamp(c, scope.updatedBeforeUs)}`,
        scope.status !== undefined && c`AND status = ${scope.status}`,
      ]);
      const state = statePurge(scope);
      const purge =
        state.kind === "none"
          ? []
          : state.kind === "user"
            ? [c`DELETE FROM ${t.userStates} WHERE app_name = ${state.appName} AND user_id = ${state.userId}`]
            : [c`DELETE FROM ${t.userStates} WHERE app_name = ${state.appName}`, c`DELETE FROM ${t.appStates} WHERE app_name = ${state.appName}`];
      const [deleted] = await transaction(c, [
        c`DELETE FROM ${t.sessions} WHERE true ${where} RETURNING app_name, user_id, id`,
        ...purge,
      ]);
      await this.announce(
        c,
        deleted!.map((r) => ({ appName: r.app_name as string, userId: r.user_id as string, sessionId: r.id as string })),
      );
      return deleted!.count;
    });
  }

  /** Tells followers in every process that these sessions changed (here: were deleted). */
  private async announce(c: Sql | ReservedSql, keys: SessionKey[]): Promise<void> {
    if (keys.length === 0) return;
    await c`SELECT pg_notify(${this.hub.channel}, topic) FROM unnest(${keys.map(sessionTopic)}::text[]) AS topic`;
  }

  async scanSessions(after: SessionKey | undefined, limit: number): Promise<SessionRecord[]> {
    const t = this.t;
    return this.use(async (c) => {
      const from = after ? c`WHERE (app_name, user_id, id) > (${after.appName}, ${after.userId}, ${after.sessionId})` : c``;
      const rows = await c`SELECT ${sessionColumns(c)} FROM ${t.sessions} ${from} ORDER BY app_name, user_id, id LIMIT ${limit}`;
      return rows.map((row) => sessionFromRow(row as unknown as SessionRow, Number));
    });
  }

  async restoreSession(s: SessionRecord): Promise<void> {
    const t = this.t;
    await this.use(async (c) => {
      await c`
        INSERT INTO ${t.sessions} AS s (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
        VALUES (${s.appName}, ${s.userId}, ${s.id}, ${s.agentId}, ${s.status}, ${c.json(s.state)}, ${c.json(s.metadata)},
          ${timestamp(c, s.createTimeUs)}, ${timestamp(c, s.updateTimeUs)}, ${s.lastSequence})
        ON CONFLICT (app_name, user_id, id) DO UPDATE SET agent_id = excluded.agent_id, status = excluded.status,
          state = excluded.state, metadata = excluded.metadata, created_at = excluded.created_at,
          updated_at = excluded.updated_at, last_sequence = greatest(s.last_sequence, excluded.last_sequence)`;
    });
  }

  async restoreEvents(key: SessionKey, events: StoredEvent[]): Promise<void> {
    const t = this.t;
    await this.use(async (c) => {
      const [, locked, stored] = await pipeline(c, [
        begin(c),
        c`SELECT pk FROM ${t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId} FOR UPDATE`,
        c`SELECT coalesce(max(sequence), 0) AS top FROM ${t.events} WHERE session_pk = ${this.pkOf(c, key)}`,
      ]);
      const pk = locked![0]?.pk as string | undefined;
      if (pk === undefined) throw sessionNotFound(key);
      const fresh = eventsToRestore(events, Number(stored![0]!.top));
      await pipeline(c, [
        c`INSERT INTO ${t.events} (session_pk, ${eventColumns(c, "insert")})
          SELECT ${pk}::int8, ${eventRecords(c)} FROM jsonb_array_elements(${c.json(fresh.map(eventRecord))}) AS r
          ON CONFLICT DO NOTHING`,
        c`UPDATE ${t.sessions} SET last_sequence = greatest(last_sequence,
            (SELECT coalesce(max(sequence), 0) FROM ${t.events} WHERE session_pk = ${pk}::int8))
          WHERE pk = ${pk}::int8`,
        ...commit(c),
      ]);
    }, { openTransaction: true });
  }

  async restoreSharedState(appName: string, userId: string, state: { appState?: JsonObject; userState?: JsonObject }) {
    const t = this.t;
    await this.use(async (c) => {
      const now = timestamp(c, nowUs());
      const writes = [
        ...(state.appState
          ? [c`INSERT INTO ${t.appStates} (app_name, state, updated_at) VALUES (${appName}, ${c.json(state.appState)}, ${now})
              ON CONFLICT (app_name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`]
          : []),
        ...(state.userState
          ? [c`INSERT INTO ${t.userStates} (app_name, user_id, state, updated_at) VALUES (${appName}, ${userId}, ${c.json(state.userState)}, ${now})
              ON CONFLICT (app_name, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`]
          : []),
      ];
      if (writes.length > 0) await transaction(c, writes);
    });
  }

  async getSharedState(appName: string, userId: string) {
    return this.use(async (c) => {
      const [row] = await sharedState(c, this.t, appName, userId);
      return { appState: (row?.app_state as JsonObject | null) ?? {}, userState: (row?.user_state as JsonObject | null) ?? {} };
    });
  }

  async subscribe(key: SessionKey, listener: () => void): Promise<() => Promise<void>> {
    try {
      return await this.hub.subscribe(key, listener);
    } catch (error) {
      throw postgresError(error);
    }
  }

  async ping(): Promise<void> {
    await this.use(async (c) => {
      await c`SELECT 1`;
    });
  }

  /**
   * Pool figures from this store's own bookkeeping, since the driver does not
   * publish its pool: `total` is the configured size (connections open
   * lazily, up to it), `idle` the part no call holds, `waiting` the calls
   * queued for a connection.
   */
  poolStats(): PoolStats {
    return { total: this.poolSize, idle: Math.max(0, this.poolSize - this.inUse), waiting: this.waiting };
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  /**
   * Runs `work` on a borrowed connection. Work that keeps a transaction open
   * across round trips says `openTransaction`, so a failure rolls it back
   * before the connection returns to the pool.
   */
  private async use<T>(work: (c: Conn) => Promise<T>, options: { openTransaction?: boolean } = {}): Promise<T> {
    // A call whose deadline has passed does not start; transactions bound themselves (see begin and commit).
    callBudgetMs();
    this.waiting++;
    let c: Conn;
    try {
      c = await this.sql.reserve();
    } catch (error) {
      throw postgresError(error);
    } finally {
      this.waiting--;
    }
    this.inUse++;
    try {
      return await work(c);
    } catch (error) {
      if (options.openTransaction) await c`ROLLBACK`.catch(() => {});
      throw postgresError(error);
    } finally {
      this.inUse--;
      c.release();
    }
  }

  /** The session's pk, as a subquery. */
  private pkOf(c: Conn, key: SessionKey) {
    return c`(SELECT pk FROM ${this.t.sessions} WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId})`;
  }

  /** The session row with its app and user state, in one statement (one snapshot). */
  private sessionWithState(c: Conn, key: SessionKey) {
    return c`SELECT ${sessionColumns(c, "s")}, ${stateColumns(c, this.t, "s")} FROM ${this.t.sessions} s
      WHERE s.app_name = ${key.appName} AND s.user_id = ${key.userId} AND s.id = ${key.sessionId}`;
  }
}

/**
 * Planner settings, for one transaction, for reading a page of a session's
 * events in sequence order: an ordered scan of the (session_pk, sequence)
 * key stops after the page. The session's size is unknown when the plan is
 * made (its pk comes from a subquery), and when it is underestimated the
 * planner picks a bitmap scan and a sort, which read the whole rest of the
 * session for every page: a long replay would take time quadratic in its length.
 */
function orderedScan(c: Conn): PendingQuery<Row[]>[] {
  return [c`SET LOCAL enable_bitmapscan = off`, c`SET LOCAL enable_sort = off`];
}

function toEvent(row: Row): StoredEvent {
  return eventFromRow(row as unknown as EventRow, Number);
}

function viewOf(session: Row | undefined, states: Row | undefined): SessionView {
  return {
    session: sessionFromRow(session as unknown as SessionRow, Number),
    appState: (states?.app_state as JsonObject | null) ?? {},
    userState: (states?.user_state as JsonObject | null) ?? {},
  };
}

