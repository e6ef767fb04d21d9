import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import type { Event, EventSchema, Session } from "../../gen/sessiond/v1/session_pb.js";
import {
  type AppSummary,
  type CreateSessionRequestSchema,
  type EventFilterSchema,
  type ForkSessionRequestSchema,
  type GetSessionRequestSchema,
  HistoryView,
  type ListAppsRequestSchema,
  type ListSessionsRequestSchema,
  SessionService,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { type TokenSource, withBearerToken } from "./bearer-token.js";
import { withTraceContext } from "./trace-context.js";

/** Identifies one session: the same id under two users is two sessions. */
export interface SessionRef {
  appName: string;
  userId: string;
  sessionId: string;
}

/** An event as written in a request (plain object, bigint or number sequences). */
export type EventInit = MessageInitShape<typeof EventSchema>;
/** Fields of a CreateSession request. */
export type CreateSessionInit = MessageInitShape<typeof CreateSessionRequestSchema>;
/** Fields of a GetSession request. */
export type GetSessionInit = MessageInitShape<typeof GetSessionRequestSchema>;
/** Fields of a ListSessions request; `pageToken` starts from a given page. */
export type ListSessionsInit = MessageInitShape<typeof ListSessionsRequestSchema>;
/** Fields of a ListApps request; `pageToken` starts from a given page. */
export type ListAppsInit = MessageInitShape<typeof ListAppsRequestSchema>;
/** Event predicates of GetEvents and ListEvents. */
export type EventFilterInit = MessageInitShape<typeof EventFilterSchema>;

/** Fields of a ForkSession request besides the source session. */
export type ForkInit = Omit<MessageInitShape<typeof ForkSessionRequestSchema>, "appName" | "userId" | "sessionId">;

/** Where a rewind goes: just after a sequence, or to before an invocation's first event. */
export type RewindTarget = { sequence: bigint | number } | { beforeInvocationId: string };

/** Options of a rewind. */
export interface RewindOptions extends CallOptions {
  /** ABORTED, and nothing is stored, when the session's last sequence differs. */
  expectedLastSequence?: bigint;
  /** Id of the marker event; a retry with the same id returns the stored marker. */
  eventId?: string;
  /** Invocation id and author of the marker event. */
  invocationId?: string;
  author?: string;
}

/** What a rewind stored: the marker event and the session after it (without events). */
export interface RewindResult {
  marker: Event;
  session: Session;
}

/** Options of an append. */
export interface AppendOptions extends CallOptions {
  /** ABORTED, and nothing is stored, when the session's last sequence differs. */
  expectedLastSequence?: bigint;
}

/** What `appendEvent` stored: the fields the server assigned (id, sessionId, sequence, timestamp). */
export interface AppendEventResult {
  event: Event;
  lastSequence: bigint;
}

/** What `appendEvents` stored, one assigned event per request event. */
export interface AppendEventsResult {
  events: Event[];
  lastSequence: bigint;
}

/** Options of `events()`. */
export interface EventsOptions extends CallOptions {
  filter?: EventFilterInit;
  /** Most events to read; unset or 0 for all. */
  limit?: number | bigint;
  offset?: number | bigint;
  /** Only the effective history: rewound events and rewind markers left out. */
  effective?: boolean;
}

/** Options of `follow()`. */
export interface FollowOptions extends Omit<CallOptions, "timeoutMs"> {
  /** Predicates; `filter.afterSequence` is where the history starts. */
  filter?: EventFilterInit;
  /**
   * Milliseconds to wait before reopening a stream that ended or became
   * unavailable, continuing after the last event seen; default 1000.
   * `false` ends the iteration instead.
   */
  reconnectDelayMs?: number | false;
  /**
   * Start with the effective history (rewound events and markers left out);
   * what follows is every new event, rewind markers included.
   */
  effective?: boolean;
}

/** One item of `follow()`: an event, or the marker that the history was sent. */
export type FollowItem = { kind: "event"; event: Event } | { kind: "caught-up" };

/** Options of the transport-based client. */
export interface TransportClientOptions {
  /** Any Connect transport: connect-web's in browsers, connect-node's in Node. */
  transport: Transport;
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: TokenSource;
}

/** The generated client plus shortcuts for the common calls. */
export interface SessiondClient {
  /** Every RPC as generated, for what the shortcuts do not cover. */
  readonly rpc: Client<typeof SessionService>;
  createSession(request: CreateSessionInit, options?: CallOptions): Promise<Session>;
  getSession(request: GetSessionInit, options?: CallOptions): Promise<Session>;
  deleteSession(ref: SessionRef, options?: CallOptions): Promise<void>;
  appendEvent(ref: SessionRef, event: EventInit, options?: AppendOptions): Promise<AppendEventResult>;
  appendEvents(ref: SessionRef, events: EventInit[], options?: AppendOptions): Promise<AppendEventsResult>;
  /** The session's events one by one, in sequence order, however the server chunks them. */
  events(ref: SessionRef, options?: EventsOptions): AsyncIterable<Event>;
  /**
   * The history, then a `caught-up` marker (once), then new events as they
   * are appended, until `signal` aborts. A stream that ends is reopened
   * after the last event seen, so no event is skipped or repeated.
   */
  follow(ref: SessionRef, options?: FollowOptions): AsyncIterable<FollowItem>;
  /** Rewinds the session: appends a marker that hides what came after the target and restores the session state. */
  rewindSession(ref: SessionRef, target: RewindTarget, options?: RewindOptions): Promise<RewindResult>;
  /** A new session with the effective history of `ref` (up to `fork.sequence`), renumbered from 1. */
  forkSession(ref: SessionRef, fork?: ForkInit, options?: CallOptions): Promise<Session>;
  /** An app's sessions page by page, following the page tokens; empty pages are skipped. */
  listSessions(request: ListSessionsInit, options?: CallOptions): AsyncIterable<Session[]>;
  /** The apps that have sessions (those the key may see), page by page, in byte order of name. */
  listApps(request?: ListAppsInit, options?: CallOptions): AsyncIterable<AppSummary[]>;
}

/** A client over any transport; safe in browsers (no Node modules). */
export function createSessiondClient(options: TransportClientOptions): SessiondClient {
  const traced = withTraceContext(options.transport);
  const transport = options.token === undefined ? traced : withBearerToken(traced, options.token);
  const rpc = createClient(SessionService, transport);
  return {
    rpc,
    async createSession(request, callOptions) {
      return required((await rpc.createSession(request, callOptions)).session, "session");
    },
    async getSession(request, callOptions) {
      return required((await rpc.getSession(request, callOptions)).session, "session");
    },
    async deleteSession(ref, callOptions) {
      await rpc.deleteSession(ref, callOptions);
    },
    async appendEvent(ref, event, { expectedLastSequence, ...callOptions } = {}) {
      const res = await rpc.appendEvent({ ...ref, event, expectedLastSequence }, callOptions);
      return { event: required(res.event, "event"), lastSequence: res.sessionLastSequence };
    },
    async appendEvents(ref, events, { expectedLastSequence, ...callOptions } = {}) {
      const res = await rpc.appendEvents({ ...ref, events, expectedLastSequence }, callOptions);
      return { events: res.events, lastSequence: res.sessionLastSequence };
    },
    async *events(ref, { filter, limit, offset, effective, ...callOptions } = {}) {
      const request = { ...ref, filter, limit: BigInt(limit ?? 0), offset: BigInt(offset ?? 0), view: viewOf(effective) };
      for await (const chunk of rpc.getEvents(request, callOptions)) yield* chunk.events;
    },
    follow: (ref, options) => follow(rpc, ref, options),
    async rewindSession(ref, target, { expectedLastSequence, eventId, invocationId, author, ...callOptions } = {}) {
      const request = {
        ...ref,
        target:
          "sequence" in target
            ? { case: "targetSequence" as const, value: BigInt(target.sequence) }
            : { case: "beforeInvocationId" as const, value: target.beforeInvocationId },
        expectedLastSequence,
        eventId,
        invocationId,
        author,
      };
      const res = await rpc.rewindSession(request, callOptions);
      return { marker: required(res.event, "event"), session: required(res.session, "session") };
    },
    async forkSession(ref, fork = {}, callOptions) {
      return required((await rpc.forkSession({ ...fork, ...ref }, callOptions)).session, "session");
    },
    async *listSessions(request, callOptions) {
      let pageToken = request.pageToken ?? "";
      do {
        const page = await rpc.listSessions({ ...request, pageToken }, callOptions);
        if (page.sessions.length > 0) yield page.sessions;
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
    },
    async *listApps(request = {}, callOptions) {
      let pageToken = request.pageToken ?? "";
      do {
        const page = await rpc.listApps({ ...request, pageToken }, callOptions);
        if (page.apps.length > 0) yield page.apps;
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
    },
  };
}

async function* follow(
  rpc: Client<typeof SessionService>,
  ref: SessionRef,
  { filter = {}, reconnectDelayMs = 1000, signal, effective, ...callOptions }: FollowOptions = {},
): AsyncGenerator<FollowItem> {
  let after = BigInt(filter.afterSequence ?? 0);
  let caughtUp = false;
  while (!signal?.aborted) {
    try {
      // After a reconnect everything past the cursor is new: raw, so rewind markers are not lost.
      const view = caughtUp ? HistoryView.RAW : viewOf(effective);
      const stream = rpc.getEvents({ ...ref, filter: { ...filter, afterSequence: after }, follow: true, view }, { ...callOptions, signal });
      for await (const chunk of stream) {
        for (const event of chunk.events) {
          after = event.sequence;
          yield { kind: "event", event };
        }
        if (chunk.caughtUp && !caughtUp) {
          caughtUp = true;
          yield { kind: "caught-up" };
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      // Only a lost server is worth retrying; bad requests would fail again.
      if (reconnectDelayMs === false || ConnectError.from(error).code !== Code.Unavailable) throw error;
    }
    if (reconnectDelayMs === false) return;
    await sleep(reconnectDelayMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function viewOf(effective: boolean | undefined): HistoryView {
  return effective ? HistoryView.EFFECTIVE : HistoryView.RAW;
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new ConnectError(`response has no ${field}`, Code.Internal);
  return value;
}
