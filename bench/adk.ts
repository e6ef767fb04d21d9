import { randomUUID } from "node:crypto";
import { DatabaseSessionService } from "@google/adk/sessions/database";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import type { BenchPostgres } from "./postgres.js";
import { adkEvent, eventContent } from "./events.js";

/** ADK's SQL session service on the bench schema, and how to fill it fast. */
export interface BenchAdk {
  readonly service: DatabaseSessionService;
  /** A new session (ADK's object, to pass to appendEvent). */
  createSession(appName: string): ReturnType<DatabaseSessionService["createSession"]>;
  /**
   * A session holding `count` events: one appended through ADK, the rest
   * copies of its stored row with new ids, times and texts, inserted in bulk.
   */
  seedSession(appName: string, count: number): Promise<{ sessionId: string; millis: number }>;
  close(): Promise<void>;
}

const USER = "bench-user";

/** Initializes ADK's schema (its own tables) inside the bench schema. */
export async function openBenchAdk(pg: BenchPostgres): Promise<BenchAdk> {
  const service = new DatabaseSessionService({ driver: PostgreSqlDriver, clientUrl: pg.url, schema: pg.schema, debug: false });
  await service.init();
  const sql = pg.sql;
  return {
    service,
    createSession: (appName) => service.createSession({ appName, userId: USER, state: {} }),
    async seedSession(appName, count) {
      const start = performance.now();
      const session = await service.createSession({ appName, userId: USER, state: {} });
      const first = adkEvent(0);
      await service.appendEvent({ session, event: first as never });
      const [template] = await sql<{ event_data: Record<string, unknown> }[]>`
        SELECT event_data FROM events WHERE app_name = ${appName} AND session_id = ${session.id}`;
      const rows = Array.from({ length: count - 1 }, (_, n) => {
        const i = n + 1;
        const id = randomUUID();
        const timestamp = first.timestamp + i;
        return {
          id,
          app_name: appName,
          user_id: USER,
          session_id: session.id,
          invocation_id: `inv-${i >> 4}`,
          timestamp: new Date(timestamp).toISOString(),
          event_data: { ...template!.event_data, id, timestamp, content: eventContent(i), invocation_id: `inv-${i >> 4}` },
        };
      });
      for (let i = 0; i < rows.length; i += 1000) {
        await sql`INSERT INTO events SELECT * FROM jsonb_populate_recordset(NULL::events, ${sql.json(rows.slice(i, i + 1000) as never)})`;
      }
      return { sessionId: session.id, millis: performance.now() - start };
    },
    async close() {
      await (service as unknown as { orm?: { close(force?: boolean): Promise<void> } }).orm?.close(true);
    },
  };
}

/** The user id ADK sessions are created under. */
export const ADK_USER = USER;
