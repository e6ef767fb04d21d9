import type { HandlerContext } from "@connectrpc/connect";
import { type GetEventsRequest, type GetEventsResponse, GetEventsResponseSchema } from "../../gen/sessiond/v1/session_service_pb.js";
import { rangesAfter } from "../core/effective-history.js";
import { chunkEvents, estimateEventBytes, streamBounds } from "../core/event-chunks.js";
import { SessiondError } from "../core/errors.js";
import { limits } from "../core/limits.js";
import { eventMatches } from "../core/match.js";
import type { EventFilter, SessionKey, StoredEvent } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { eventToProto } from "./convert.js";
import { eventFilterOf } from "./event-handlers.js";
import type { FollowHub } from "./follow-hub.js";
import { attachEncoding, takesEncodedResponse } from "./encoded-response.js";
import { binaryResponse, encodeStoredEvents, eventFields, fieldStart, unknownEvents } from "./private/event-encoder.js";
import { linkSignals, WakeSignal } from "./private/wake-signal.js";
import { rangeEvents, readEffectiveRanges } from "./private/history.js";
import { effectiveView, nonNegative, sessionKeyOf } from "./validate.js";

type Message = GetEventsResponse;

const EVENTS_FIELD = GetEventsResponseSchema.field.events.number;

/** Events asked for by the first store read, before any sizes are known. */
const FIRST_PAGE = 64;
/** Estimated bytes a store page should hold; later pages are sized from the events seen. */
const PAGE_BYTES = 4 * 1024 * 1024;

/** Events per store read of an effective-history replay. */
const EFFECTIVE_PAGE = 256;

/** Poll interval for stores without `subscribe`: the only cross-process wake-up. */
export const DEFAULT_POLL_MS = 250;
/** Safety poll for stores with `subscribe`: a lost notification only delays. */
export const DEFAULT_SAFETY_POLL_MS = 2000;

/** The poll interval a store gets when none is configured. */
export function defaultPollIntervalMs(store: Store): number {
  return store.subscribe ? DEFAULT_SAFETY_POLL_MS : DEFAULT_POLL_MS;
}

/** What GetEvents needs. */
export interface EventStreamOptions {
  store: Store;
  hub: FollowHub;
  /** How long a follower waits for a wake-up before re-reading the store anyway. */
  pollIntervalMs: number;
  /** Aborted when the server drains: follow streams end with UNAVAILABLE. */
  draining?: AbortSignal;
}

/**
 * GetEvents. History is read page by page with the sequence cursor and each
 * page is sent as messages of at most 500 events and about 1 MiB. The
 * generator is pulled by the transport, which awaits each write (and the
 * HTTP/2 drain) before pulling again. While a page is sent the next one is
 * read, and the one after only once the client has taken the first: server
 * memory holds two pages.
 *
 * With `follow`, one `caught_up` message ends the history, then the stream
 * re-reads the store after its cursor whenever it is woken: by an append in
 * this process (FollowHub), by the store's subscription, or by the poll.
 */
export function getEventsHandler(options: EventStreamOptions) {
  const { store, hub } = options;
  return async function* getEvents(req: GetEventsRequest, ctx: HandlerContext): AsyncGenerator<Message> {
    const key = sessionKeyOf(req);
    const { filter, afterSequence } = eventFilterOf(req.filter);
    const limit = nonNegative("limit", req.limit) || Number.POSITIVE_INFINITY;
    const offset = nonNegative("offset", req.offset);
    const effective = effectiveView("view", req.view);
    const out: Output = { sessionId: key.sessionId, binary: binaryResponse(ctx), attach: takesEncodedResponse(ctx) };
    if (!req.follow) {
      if (!effective) {
        yield* replay(store, key, out, { filter, afterSequence, limit, offset }, ctx.signal);
        return;
      }
      const last = (await store.getSession(key, { numRecentEvents: 0 })).view.session.lastSequence;
      yield* replayEffective(store, key, out, { filter, afterSequence, limit, offset }, last, ctx.signal);
      return;
    }
    const stop = linkSignals(ctx.signal, options.draining, drainingError);
    const wake = new WakeSignal();
    let release: (() => Promise<void>) | undefined;
    try {
      // Registered before anything is read, so no append after a read goes unnoticed.
      release = await hub.watch(key, wake.notify);
      // Everything up to here is history. Reads after this point see it all, so once
      // the history is sent the tail may start past it, skipping non-matching events.
      const start = (await store.getSession(key, { numRecentEvents: 0 })).view.session.lastSequence;
      const query = { filter, afterSequence, limit, offset };
      const history = effective
        ? yield* replayEffective(store, key, out, query, start, stop.signal)
        : yield* replay(store, key, out, query, stop.signal);
      if (history.sent >= limit) return;
      yield { $typeName: "sessiond.v1.GetEventsResponse", events: [], caughtUp: true };
      const tail = { filter, cursor: Math.max(start, history.cursor), limit: limit - history.sent };
      yield* follow(store, key, out, tail, wake, options.pollIntervalMs, stop.signal);
    } finally {
      stop.dispose();
      await release?.();
    }
  };
}

interface ReplayQuery {
  filter: EventFilter;
  afterSequence: number;
  limit: number;
  offset: number;
}

/**
 * Sends the matching history; returns the last sequence sent (or the start)
 * and how many events. The next page is read while the current one is sent,
 * so the store's latency overlaps the transfer instead of adding to it.
 */
async function* replay(
  store: Store,
  key: SessionKey,
  out: Output,
  query: ReplayQuery,
  signal: AbortSignal,
): AsyncGenerator<Message, { cursor: number; sent: number }> {
  const read = (afterSequence: number, limit: number, offset: number) => {
    const page = store.readEvents(key, { filter: query.filter, afterSequence, limit, offset, encoded: out.binary });
    // Awaited below; a stream that ends first must not leave an unhandled rejection behind.
    page.catch(() => {});
    return page;
  };
  let cursor = query.afterSequence;
  let sent = 0;
  let want = Math.min(FIRST_PAGE, query.limit);
  let next: Promise<StoredEvent[]> | undefined = read(cursor, want, query.offset);
  while (next) {
    signal.throwIfAborted();
    const page = await next;
    next = undefined;
    if (page.length === 0) break;
    const { messages, bytes } = pageMessages(page, out);
    cursor = page.at(-1)!.sequence;
    sent += page.length;
    if (page.length === want && sent < query.limit) {
      want = Math.min(nextPageSize(store, bytes, page.length), query.limit - sent);
      next = read(cursor, want, 0);
    }
    yield* messages;
  }
  return { cursor, sent };
}

/**
 * Sends the matching events of the effective history through `last`. The
 * tail that follows is the raw log: a follower sees later rewind markers and
 * applies them to what it holds.
 */
async function* replayEffective(
  store: Store,
  key: SessionKey,
  out: Output,
  query: ReplayQuery,
  last: number,
  signal: AbortSignal,
): AsyncGenerator<Message, { cursor: number; sent: number }> {
  const ranges = rangesAfter(await readEffectiveRanges(store, key, last), query.afterSequence);
  let cursor = query.afterSequence;
  let sent = 0;
  const pages = rangeEvents(store, key, ranges, query.filter, { limit: query.limit, skip: query.offset, pageSize: EFFECTIVE_PAGE });
  for await (const page of pages) {
    signal.throwIfAborted();
    cursor = page.at(-1)!.sequence;
    sent += page.length;
    yield* pageMessages(page, out).messages;
  }
  return { cursor, sent };
}

/**
 * The live tail: reads every event after the cursor, unfiltered, so the
 * cursor also moves over events the filter rejects; sends the matching ones.
 * No gap relies on stores making a session's events visible in sequence
 * order (appends lock the session until commit), so a read never returns
 * sequence n + 1 without n.
 */
async function* follow(
  store: Store,
  key: SessionKey,
  out: Output,
  tail: { filter: EventFilter; cursor: number; limit: number },
  wake: WakeSignal,
  pollIntervalMs: number,
  signal: AbortSignal,
): AsyncGenerator<Message> {
  const filtered = Object.keys(tail.filter).length > 0;
  let { cursor } = tail;
  let left = tail.limit;
  let pageSize = FIRST_PAGE;
  for (;;) {
    signal.throwIfAborted();
    wake.clear();
    const page = await store.readEvents(key, { filter: {}, afterSequence: cursor, limit: pageSize });
    if (page.length > 0) {
      cursor = page.at(-1)!.sequence;
      let matching = filtered ? page.filter((e) => eventMatches(e, tail.filter)) : page;
      if (matching.length > left) matching = matching.slice(0, left);
      const full = page.length === pageSize;
      const bytes = yield* send(matching, out);
      pageSize = nextPageSize(store, filtered ? pageBytes(page, key.sessionId) : bytes, page.length);
      left -= matching.length;
      if (left <= 0) return;
      if (full) continue;
    }
    await wake.wait(pollIntervalMs, signal);
  }
}

/** How a stream's messages are made. */
interface Output {
  sessionId: string;
  /** The response is serialized in the binary format: events go out pre-encoded. */
  binary: boolean;
  /** The transport sends attached encodings: binary messages carry theirs. */
  attach: boolean;
}

/** Yields events as bounded messages; returns their size. */
async function* send(events: StoredEvent[], out: Output): AsyncGenerator<Message, number> {
  const { messages, bytes } = pageMessages(events, out);
  yield* messages;
  return bytes;
}

/**
 * Events as stream messages within {@link streamBounds}, and their size (for
 * sizing the next page). Binary responses carry the events pre-encoded and
 * are split by their exact encoded size; JSON ones by the estimate.
 */
function pageMessages(events: StoredEvent[], out: Output): { messages: Message[]; bytes: number } {
  const { sessionId } = out;
  if (!out.binary) {
    const { chunks, bytes } = chunkEvents(events, streamBounds, sessionId);
    const messages = chunks.map((chunk): Message => ({
      $typeName: "sessiond.v1.GetEventsResponse",
      events: chunk.map((e) => eventToProto(e, sessionId)),
      caughtUp: false,
    }));
    return { messages, bytes };
  }
  const encoded = encodeStoredEvents(events, sessionId, EVENTS_FIELD);
  const { ends } = encoded;
  const messages: Message[] = [];
  const flush = (from: number, to: number) => {
    const message: Message = { $typeName: "sessiond.v1.GetEventsResponse", events: [], caughtUp: false, $unknown: unknownEvents(encoded, from, to) };
    // The message has no other field: its encoding is its events'.
    if (out.attach) attachEncoding(message, eventFields(encoded, from, to));
    messages.push(message);
  };
  let start = 0;
  let size = 0;
  for (let i = 0; i < ends.length; i++) {
    const n = ends[i]! - fieldStart(encoded, i);
    if (i > start && (i - start >= streamBounds.maxEvents || size + n > streamBounds.maxBytes)) {
      flush(start, i);
      start = i;
      size = 0;
    }
    size += n;
  }
  if (start < ends.length) flush(start, ends.length);
  const bytes = ends.length === 0 ? 0 : ends.at(-1)! - encoded.start;
  return { messages, bytes };
}

function pageBytes(events: StoredEvent[], sessionId: string): number {
  let bytes = 0;
  for (const event of events) bytes += estimateEventBytes(event, sessionId);
  return bytes;
}

/**
 * Sizes the next page so that it holds about PAGE_BYTES, from the average
 * event of the last one, within the store's page size for long reads.
 */
function nextPageSize(store: Store, bytes: number, count: number): number {
  const maxEvents = store.streamPageSize ?? limits.maxPageSize;
  if (count === 0) return FIRST_PAGE;
  return Math.max(1, Math.min(maxEvents, Math.floor((PAGE_BYTES * count) / Math.max(bytes, 1))));
}

function drainingError(): SessiondError {
  return new SessiondError(
    "unavailable",
    "server is shutting down; reconnect and resume with filter.after_sequence set to the last received sequence",
  );
}
