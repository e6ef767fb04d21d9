import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, Code, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  type AppendEventRequest,
  BaseSessionService,
  type CreateSessionRequest,
  type DeleteSessionRequest,
  type Event as AdkEvent,
  type GetSessionRequest,
  type ListSessionsRequest,
  type ListSessionsResponse,
  type Session as AdkSession,
} from "@google/adk";
import type { Session } from "../../gen/sessiond/v1/session_pb.js";
import { HistoryView, SessionOrder, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { timestampFromUs, timestampToUs } from "../api/convert.js";
import { USER_PREFIX } from "../core/state.js";
import { AlreadyExistsError, SessionNotFoundError, StaleSessionError, statusOf } from "./errors.js";
import { fromRemoteEvent, msToUs, tempEntries, toJson, toRemoteEvent } from "./event-mapping.js";
import { listPaged } from "./listing.js";

/** Options of {@link RemoteSessionService}. */
export interface RemoteSessionServiceOptions {
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: string;
  /**
   * Which events getSession returns: `"raw"` (default, as Python ADK keeps
   * them: rewound events and rewind markers included) or `"effective"`
   * (both left out). ADK JS builds the model's context from every event of
   * the session, so choose `"effective"` when sessions are rewound.
   */
  history?: "raw" | "effective";
}

/** A rewind (Python ADK's Runner.rewind_async). */
export interface RewindRequest {
  appName: string;
  userId: string;
  sessionId: string;
  /** The session goes back to just before the first event of this invocation. */
  rewindBeforeInvocationId: string;
}

/** ADK's getUserState request (Python ADK's get_user_state). */
export interface GetUserStateRequest {
  appName: string;
  userId: string;
}

/**
 * An ADK session service that keeps sessions, events and state in sessiond.
 * Swap it in for `InMemorySessionService` or `DatabaseSessionService`:
 *
 * ```ts
 * const sessionService = new RemoteSessionService("http://127.0.0.1:50051", { token });
 * const runner = new Runner({ appName, agent, sessionService });
 * ```
 *
 * Semantics follow the Python ADK where the ADK implementations disagree;
 * docs/frameworks.md lists the differences.
 */
export class RemoteSessionService extends BaseSessionService {
  private readonly client: Client<typeof SessionService>;
  private readonly callOptions: CallOptions;
  /** The HTTP/2 connection, when this service made its own transport. */
  private readonly connection: Http2SessionManager | undefined;
  /** The server's last_sequence each handed-out session object is known to be at. */
  private readonly loadedAt = new WeakMap<AdkSession, number>();
  private readonly view: HistoryView;

  /** `target` is the server's base URL (gRPC over HTTP/2) or any Connect transport. */
  constructor(target: string | Transport, options: RemoteSessionServiceOptions = {}) {
    super();
    if (typeof target === "string") {
      this.connection = new Http2SessionManager(target);
      this.client = createClient(SessionService, createGrpcTransport({ baseUrl: target, sessionManager: this.connection }));
    } else {
      this.client = createClient(SessionService, target);
    }
    this.callOptions = options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {};
    this.view = options.history === "effective" ? HistoryView.EFFECTIVE : HistoryView.RAW;
  }

  /** Opens the connection to the server (DatabaseSessionService's init); calls open it on demand anyway. */
  async init(): Promise<void> {
    if (this.connection && (await this.connection.connect()) === "error") {
      throw new Error(`cannot reach the sessiond server at ${this.connection.authority}`, { cause: this.connection.error() });
    }
  }

  /** Closes the connection this service opened; a later call opens a new one. */
  async close(): Promise<void> {
    this.connection?.abort();
  }

  override async createSession({ appName, userId, state, sessionId }: CreateSessionRequest): Promise<AdkSession> {
    try {
      const res = await this.client.createSession(
        { appName, userId, sessionId: sessionId || undefined, state: toJson(state ?? {}) as JsonObject },
        this.callOptions,
      );
      return this.adopt(res.session!);
    } catch (error) {
      if (statusOf(error) === Code.AlreadyExists) {
        throw new AlreadyExistsError(`Session with id ${sessionId} already exists.`, { cause: error });
      }
      throw error;
    }
  }

  /** Resolves undefined when the session does not exist. `numRecentEvents: 0` reads no events (Python ADK). */
  override async getSession({ appName, userId, sessionId, config }: GetSessionRequest): Promise<AdkSession | undefined> {
    try {
      const res = await this.client.getSession(
        {
          appName,
          userId,
          sessionId,
          numRecentEvents: config?.numRecentEvents,
          afterTime: config?.afterTimestamp !== undefined ? timestampFromUs(msToUs(config.afterTimestamp)) : undefined,
          view: this.view,
        },
        this.callOptions,
      );
      return this.adopt(res.session!);
    } catch (error) {
      if (statusOf(error) === Code.NotFound) return undefined;
      throw error;
    }
  }

  /**
   * Lists sessions with their merged state and no events (Python ADK), in
   * ADK's pages; the page is read from the server, not sliced from a full listing.
   */
  override async listSessions({ appName, userId, limit, offset, page, order }: ListSessionsRequest): Promise<ListSessionsResponse> {
    const serverOrder = order === "asc" ? SessionOrder.UPDATE_TIME_ASC : SessionOrder.UPDATE_TIME_DESC;
    return listPaged(
      async (skip, pageSize, pageToken) =>
        this.client.listSessions({ appName, userId, offset: skip, pageSize, pageToken, order: serverOrder }, this.callOptions),
      { limit, offset, page },
      order,
      (session) => this.adopt(session),
    );
  }

  override async deleteSession({ appName, userId, sessionId }: DeleteSessionRequest): Promise<void> {
    try {
      await this.client.deleteSession({ appName, userId, sessionId }, this.callOptions);
    } catch (error) {
      if (statusOf(error) !== Code.NotFound) throw error;
    }
  }

  /** The user's `user:` state without the prefix (Python ADK's get_user_state); `{}` when there is none. */
  async getUserState({ appName, userId }: GetUserStateRequest): Promise<Record<string, unknown>> {
    const res = await this.client.getUserState({ appName, userId }, this.callOptions);
    const state: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(res.state ?? {})) {
      if (!key.startsWith(USER_PREFIX)) continue;
      Object.defineProperty(state, key.slice(USER_PREFIX.length), { value, writable: true, enumerable: true, configurable: true });
    }
    return state;
  }

  /**
   * Stores the event (partial events are not stored), then updates the
   * session object the way ADK does. The append is conditional on the
   * session object being current: when another writer appended since it was
   * loaded, nothing is stored and a {@link StaleSessionError} is thrown
   * (Python ADK). `temp:` keys reach `session.state` for the rest of the
   * invocation but are never stored (Python ADK).
   */
  override async appendEvent({ session, event }: AppendEventRequest): Promise<AdkEvent> {
    if (event.partial) return event;
    const temp = tempEntries(event.actions?.stateDelta);
    const expectedLastSequence = this.loadedAt.get(session) ?? (await this.currentSequence(session));
    let res;
    try {
      res = await this.client.appendEvent(
        {
          appName: session.appName,
          userId: session.userId,
          sessionId: session.id,
          event: toRemoteEvent(event),
          expectedLastSequence: BigInt(expectedLastSequence),
        },
        this.callOptions,
      );
    } catch (error) {
      throw appendError(session, error);
    }
    const assigned = res.event!;
    if (!event.id) event.id = assigned.id;
    if (!event.timestamp) event.timestamp = timestampToMs(assigned.timestamp);
    await super.appendEvent({ session, event });
    for (const [key, value] of temp) session.state[key] = value;
    session.lastUpdateTime = event.timestamp;
    this.loadedAt.set(session, Number(res.sessionLastSequence));
    return event;
  }

  /**
   * Rewinds a session the way Python ADK's `Runner.rewind_async` does, in
   * one server-side step: appends a marker event (author "user", a new
   * invocation id, `actions.rewindBeforeInvocationId`) whose state delta
   * restores the session state as of just before the invocation's first
   * event. Shared `app:` and `user:` state is not rewound (as in Python ADK);
   * artifacts are not either, as this service does not hold them. Returns the
   * marker. Session objects loaded before are stale afterwards: reload.
   */
  async rewind({ appName, userId, sessionId, rewindBeforeInvocationId }: RewindRequest): Promise<AdkEvent> {
    try {
      const res = await this.client.rewindSession(
        {
          appName,
          userId,
          sessionId,
          target: { case: "beforeInvocationId", value: rewindBeforeInvocationId },
          invocationId: `e-${randomUUID()}`,
          author: "user",
        },
        this.callOptions,
      );
      return fromRemoteEvent(res.event!);
    } catch (error) {
      if (statusOf(error) === Code.NotFound) throw new SessionNotFoundError(`Session not found: ${sessionId}`, { cause: error });
      if (statusOf(error) === Code.InvalidArgument && String((error as Error).message).includes("before_invocation_id")) {
        throw new Error(`Invocation ID not found: ${rewindBeforeInvocationId}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * The stored last_sequence for a session object this service did not hand
   * out as it is (a structuredClone, a deserialized copy): it is current only
   * if the stored update time is the one it carries and the newest stored
   * event is its last one. (A copy without events is judged by time alone.)
   */
  private async currentSequence(session: AdkSession): Promise<number> {
    let stored: Session;
    try {
      const res = await this.client.getSession(
        { appName: session.appName, userId: session.userId, sessionId: session.id, numRecentEvents: 1, view: this.view },
        this.callOptions,
      );
      stored = res.session!;
    } catch (error) {
      throw appendError(session, error);
    }
    const storedUs = stored.updateTime ? timestampToUs(stored.updateTime) : 0;
    const last = session.events.at(-1);
    const behind = last !== undefined && stored.events.at(-1)?.id !== last.id;
    if (behind || Math.abs(storedUs - msToUs(session.lastUpdateTime)) > 1) throw new StaleSessionError();
    return Number(stored.lastSequence);
  }

  private adopt(remote: Session): AdkSession {
    const session = toAdkSession(remote);
    this.loadedAt.set(session, Number(remote.lastSequence));
    return session;
  }
}

/** The ADK error for a failed append. */
function appendError(session: AdkSession, error: unknown): unknown {
  switch (statusOf(error)) {
    case Code.NotFound:
      return new SessionNotFoundError(`Session ${session.id} not found.`, { cause: error });
    case Code.Aborted:
      return new StaleSessionError(undefined, { cause: error });
    default:
      return error;
  }
}

/** An ADK session for a sessiond session message (events only when the message has them). */
function toAdkSession(remote: Session): AdkSession {
  return {
    id: remote.id,
    appName: remote.appName,
    userId: remote.userId,
    state: { ...(remote.state ?? {}) },
    events: remote.events.map(fromRemoteEvent),
    lastUpdateTime: timestampToMs(remote.updateTime),
  };
}

function timestampToMs(ts: Timestamp | undefined): number {
  return ts ? timestampToUs(ts) / 1000 : 0;
}
