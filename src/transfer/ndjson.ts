import { once } from "node:events";
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import { textProblem } from "../core/json-check.js";
import { keyOf } from "../core/match.js";
import type { SessionRecord, StoredEvent } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { beginRestore, EVENT_PAGE, eventPagesOf, sessionsOf } from "./scan.js";
import { checkEvent, checkRecord, checkState, inputError, isObject } from "./records.js";

/**
 * The export format: newline-delimited JSON, one object per line, each with
 * a `type`. A header comes first and an end line last; in between, in
 * (app, user, session) order, the shared state a user's sessions see, then
 * each session followed by its events in sequence order:
 *
 * ```
 * {"type":"header","format":"sessiond","version":1,"createdAt":"…","store":"sqlite","app":null}
 * {"type":"app_state","appName":"a","state":{…}}
 * {"type":"user_state","appName":"a","userId":"u","state":{…}}
 * {"type":"session","session":{"appName":"a","userId":"u","id":"s","status":"active",…}}
 * {"type":"event","event":{"sequence":1,"id":"…","timestampUs":…,…}}
 * {"type":"end","sessions":1,"events":1}
 * ```
 *
 * Event lines belong to the session line before them. U+2028 and U+2029
 * are written escaped, so any line reader splits the file correctly.
 */
export const FORMAT = "sessiond";
/** The format version this build writes and reads. */
export const FORMAT_VERSION = 1;

// Valid unescaped in JSON, but some line readers split at them.
const LINE_SEPARATORS = /[\u2028\u2029]/g;
const escapeSeparator = (c: string) => `\\u${c.charCodeAt(0).toString(16)}`;

/** Counts of an export or import. */
export interface TransferCounts {
  sessions: number;
  events: number;
}

/**
 * Writes the store (or one app of it) to `out` as NDJSON, reading page by
 * page and waiting for the stream to drain, so memory stays bounded. Does
 * not end `out`.
 */
export async function exportStore(store: Store, out: Writable, options: { appName?: string } = {}): Promise<TransferCounts> {
  const write = async (line: object) => {
    if (!out.write(`${JSON.stringify(line).replace(LINE_SEPARATORS, escapeSeparator)}\n`)) await once(out, "drain");
  };
  await write({ type: "header", format: FORMAT, version: FORMAT_VERSION, createdAt: new Date().toISOString(), store: store.kind, app: options.appName ?? null });
  const counts: TransferCounts = { sessions: 0, events: 0 };
  let app: string | undefined;
  let user: string | undefined;
  for await (const session of sessionsOf(store, { appName: options.appName })) {
    if (session.appName !== app || session.userId !== user) {
      const { appState, userState } = await store.getSharedState(session.appName, session.userId);
      if (session.appName !== app) await write({ type: "app_state", appName: session.appName, state: appState });
      await write({ type: "user_state", appName: session.appName, userId: session.userId, state: userState });
      app = session.appName;
      user = session.userId;
    }
    await write({ type: "session", session });
    counts.sessions++;
    for await (const page of eventPagesOf(store, keyOf(session))) {
      // The encoded tail is the server's cache of the other fields, not part of the format.
      for (const { encodedTail: _, ...event } of page) await write({ type: "event", event });
      counts.events += page.length;
    }
  }
  await write({ type: "end", ...counts });
  return counts;
}

/**
 * Reads an export from `input` into the store line by line, storing events
 * in batches. Importing the same file again, or after an interruption,
 * skips the events the store already holds. Throws on malformed input
 * naming the line; what was imported before it stays.
 */
export async function importStream(store: Store, input: Readable): Promise<TransferCounts> {
  const counts: TransferCounts = { sessions: 0, events: 0 };
  let current: SessionRecord | undefined;
  let have = 0;
  let lastSequence = 0;
  let batch: StoredEvent[] = [];
  let lineNumber = 0;
  let sawHeader = false;
  let sawEnd = false;

  const flushEvents = async () => {
    if (current && batch.length > 0) await store.restoreEvents(keyOf(current), batch);
    batch = [];
  };
  const finishSession = async () => {
    await flushEvents();
    if (current) await store.restoreSession(current);
    current = undefined;
  };

  for await (const text of linesOf(input)) {
    lineNumber++;
    if (text.trim() === "") continue;
    const where = `line ${lineNumber}`;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw inputError(where, "is not JSON");
    }
    if (!isObject(line) || typeof line.type !== "string") throw inputError(where, 'needs a "type"');
    if (sawEnd) throw inputError(where, "follows the end line");
    if (!sawHeader) {
      if (line.type !== "header" || line.format !== FORMAT) throw inputError(where, "is not a sessiond export header");
      if (line.version !== FORMAT_VERSION) throw inputError(where, `format version ${JSON.stringify(line.version)} is not supported; this build reads version ${FORMAT_VERSION}`);
      sawHeader = true;
      continue;
    }
    switch (line.type) {
      case "app_state":
        await store.restoreSharedState(checkName(where, "appName", line.appName), "", { appState: checkState(where, line.state) });
        break;
      case "user_state":
        await store.restoreSharedState(checkName(where, "appName", line.appName), checkName(where, "userId", line.userId), {
          userState: checkState(where, line.state),
        });
        break;
      case "session":
        await finishSession();
        current = checkRecord(where, line.session);
        have = await beginRestore(store, current);
        lastSequence = 0;
        counts.sessions++;
        break;
      case "event": {
        if (!current) throw inputError(where, "an event line must follow a session line");
        const event = checkEvent(where, line.event);
        if (event.sequence <= lastSequence) throw inputError(where, `sequence ${event.sequence} is not after ${lastSequence}`);
        lastSequence = event.sequence;
        counts.events++;
        if (event.sequence <= have) break;
        batch.push(event);
        if (batch.length >= EVENT_PAGE) await flushEvents();
        break;
      }
      case "end":
        await finishSession();
        if (line.sessions !== counts.sessions || line.events !== counts.events) {
          throw inputError(where, `announces ${String(line.sessions)} sessions and ${String(line.events)} events, but ${counts.sessions} and ${counts.events} came before it`);
        }
        sawEnd = true;
        break;
      default:
        throw inputError(where, `unknown type ${JSON.stringify(line.type)}`);
    }
  }
  await finishSession();
  if (!sawHeader) throw inputError("input", "is empty; expected a sessiond export");
  if (!sawEnd) throw inputError("input", `ends after line ${lineNumber} without the end line; the export was cut short (what came before is imported)`);
  return counts;
}

/**
 * The input's lines, split at "\n" only (a trailing "\r" is dropped).
 * node:readline would also split at U+2028 and U+2029, which JSON strings
 * may hold unescaped.
 */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of input) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer);
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      yield stripCr(pending.slice(0, end));
      pending = pending.slice(end + 1);
    }
  }
  pending += decoder.end();
  if (pending !== "") yield stripCr(pending);
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function checkName(where: string, field: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw inputError(where, `${field} must be a non-empty string`);
  const problem = textProblem(value);
  if (problem) throw inputError(where, `${field} ${problem}`);
  return value;
}
