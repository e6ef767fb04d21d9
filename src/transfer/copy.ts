import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { keyOf } from "../core/match.js";
import type { SessionKey, SessionRecord } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { type Progress, silentProgress } from "./progress.js";
import { beginRestore, countSessions, eventPagesOf, SharedStateCopier, sessionsOf } from "./scan.js";

/** How a store-to-store copy runs. */
export interface CopyOptions {
  /** Stop after this many sessions (the rest follows on the next run). */
  limit?: number;
  /** A file recording the last finished session, so a rerun starts after it. */
  checkpointFile?: string;
  /** Names the copy (e.g. both URLs); a checkpoint of another copy is refused. */
  job?: string;
  progress?: Progress;
  /** Aborting stops the copy after the session in hand. */
  signal?: AbortSignal;
}

/** What a copy did, counted over all runs that share a checkpoint. */
export interface CopyResult {
  sessions: number;
  events: number;
  /** False when the limit or the signal stopped it early. */
  complete: boolean;
}

interface Checkpoint {
  version: 1;
  job: string;
  after: SessionKey;
  sessions: number;
  events: number;
}

/**
 * Copies every session with its events, and the app and user state they
 * share, from one store to another, session by session and event page by
 * event page. Rerunning after an interruption continues without duplicates:
 * each session's events resume after the target's last stored sequence, and
 * with a checkpoint file finished sessions are not visited again.
 */
export async function copyStore(from: Store, to: Store, options: CopyOptions = {}): Promise<CopyResult> {
  const progress = options.progress ?? silentProgress;
  const job = options.job ?? `${from.kind} -> ${to.kind}`;
  const checkpoint = options.checkpointFile ? readCheckpoint(options.checkpointFile, job) : undefined;
  let after = checkpoint?.after;
  let sessions = checkpoint?.sessions ?? 0;
  let events = checkpoint?.events ?? 0;
  progress.start(sessions + (await countSessions(from, { after })), sessions);

  const shared = new SharedStateCopier(from, to);
  let thisRun = 0;
  let complete = true;
  for await (const record of sessionsOf(from, { after })) {
    if ((options.limit !== undefined && thisRun >= options.limit) || options.signal?.aborted) {
      complete = false;
      break;
    }
    await shared.reach(record.appName, record.userId);
    events += await copySession(from, to, record);
    sessions++;
    thisRun++;
    after = keyOf(record);
    if (options.checkpointFile) writeCheckpoint(options.checkpointFile, { version: 1, job, after, sessions, events });
    progress.update(sessions, events);
  }
  progress.finish(sessions, events);
  return { sessions, events, complete };
}

/** Copies one session's row and the events the target lacks; returns how many events were sent. */
async function copySession(from: Store, to: Store, record: SessionRecord): Promise<number> {
  const key = keyOf(record);
  const have = await beginRestore(to, record);
  let sent = 0;
  for await (const page of eventPagesOf(from, key, have)) {
    await to.restoreEvents(key, page);
    sent += page.length;
  }
  await to.restoreSession(record);
  return sent;
}

function readCheckpoint(file: string, job: string): Checkpoint | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as Checkpoint;
  } catch (error) {
    throw new Error(`--checkpoint: ${file} is not a checkpoint file (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed.version !== 1 || typeof parsed.after?.appName !== "string") {
    throw new Error(`--checkpoint: ${file} is not a version 1 checkpoint file`);
  }
  if (parsed.job !== job) {
    throw new Error(`--checkpoint: ${file} belongs to another copy (${parsed.job}); remove it or pick another file`);
  }
  return parsed;
}

/** Written to a temporary file and renamed, so a crash never leaves half a checkpoint. */
function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint)}\n`);
  renameSync(temporary, file);
}
