import type { Client } from "@connectrpc/connect";
import type { SessionService } from "../../../gen/sessiond/v1/session_service_pb.js";
import type { Random } from "./random.js";

/** One AppendEvents call of a writer: its event ids, and whether the server acknowledged it. */
export interface Batch {
  readonly sessionId: string;
  readonly ids: readonly string[];
  acknowledged: boolean;
  /** Acknowledged only when sent again after a restart. */
  retried?: boolean;
}

/** Every batch the writers sent, by session. */
export class Ledger {
  readonly batches: Batch[] = [];

  constructor(
    readonly appName: string,
    readonly userId: string,
  ) {}

  /** The request of `batch`: each event sets state `last` to its id, so the state shows the newest stored event. */
  request(batch: Batch) {
    return {
      appName: this.appName,
      userId: this.userId,
      sessionId: batch.sessionId,
      events: batch.ids.map((id) => ({ id, author: "user", actions: { stateDelta: { last: id } } })),
    };
  }

  /** Events acknowledged in all, or (`firstTry`) on their first call, before any restart. */
  acknowledgedEvents(firstTry = false): number {
    return this.batches.filter((b) => b.acknowledged && !(firstTry && b.retried)).reduce((n, b) => n + b.ids.length, 0);
  }
}

/**
 * Writers appending batches of 1–4 events, each on its own session, until
 * `stopped()` says so and their call in flight ended. A failed call is an
 * unacknowledged batch, kept for the retry after the restart.
 */
export async function runWriters(
  api: Client<typeof SessionService>,
  ledger: Ledger,
  sessions: readonly string[],
  label: string,
  random: Random,
  stopped: () => boolean,
): Promise<void> {
  await Promise.all(
    sessions.map(async (sessionId) => {
      for (let i = 0; !stopped(); i++) {
        const size = 1 + random.int(4);
        const batch: Batch = {
          sessionId,
          ids: Array.from({ length: size }, (_, j) => `${label}-${sessionId}-b${i}-e${j}`),
          acknowledged: false,
        };
        ledger.batches.push(batch);
        try {
          await api.appendEvents(ledger.request(batch), { timeoutMs: 15_000 });
          batch.acknowledged = true;
        } catch {
          // Unacknowledged: the kill, or a call that failed otherwise; either way it is retried later.
          if (!stopped()) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }),
  );
}

/** What the stored sessions show about the ledger's batches. */
export interface Audit {
  events: number;
  /** Acknowledged events that are not stored. */
  lost: number;
  /** Batches stored in part. */
  partial: number;
  /** Event ids stored more than once. */
  duplicates: number;
  /** Sessions whose sequences are not 1, 2, 3 … */
  gapped: number;
  /** Sessions whose state `last` is not the newest stored event's id. */
  staleState: number;
  /** Unacknowledged batches that are stored in full. */
  storedUnacknowledged: number;
}

/** Reads every session back and checks each batch of the ledger against it. */
export async function audit(api: Client<typeof SessionService>, ledger: Ledger, sessions: readonly string[]): Promise<Audit> {
  const result: Audit = { events: 0, lost: 0, partial: 0, duplicates: 0, gapped: 0, staleState: 0, storedUnacknowledged: 0 };
  const stored = new Map<string, number>();
  for (const sessionId of sessions) {
    const { session } = await api.getSession({ appName: ledger.appName, userId: ledger.userId, sessionId }, { timeoutMs: 30_000 });
    const events = session!.events;
    result.events += events.length;
    if (events.some((e, i) => Number(e.sequence) !== i + 1)) result.gapped++;
    const newest = events.at(-1)?.id;
    if (newest !== undefined && session!.state?.last !== newest) result.staleState++;
    for (const e of events) {
      const key = `${sessionId}/${e.id}`;
      stored.set(key, (stored.get(key) ?? 0) + 1);
    }
  }
  for (const count of stored.values()) if (count > 1) result.duplicates++;
  for (const batch of ledger.batches) {
    const present = batch.ids.filter((id) => stored.has(`${batch.sessionId}/${id}`)).length;
    if (batch.acknowledged) result.lost += batch.ids.length - present;
    if (present > 0 && present < batch.ids.length) result.partial++;
    if (!batch.acknowledged && present === batch.ids.length) result.storedUnacknowledged++;
  }
  return result;
}

/**
 * Sends every unacknowledged batch again with the same event ids, as a client
 * retrying after an error does; each retry must succeed. Returns how many
 * were retried.
 */
export async function retryUnacknowledged(api: Client<typeof SessionService>, ledger: Ledger): Promise<number> {
  let retried = 0;
  for (const batch of ledger.batches) {
    if (batch.acknowledged) continue;
    await api.appendEvents(ledger.request(batch), { timeoutMs: 30_000 });
    batch.acknowledged = true;
    batch.retried = true;
    retried++;
  }
  return retried;
}
