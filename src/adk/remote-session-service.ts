import type { JsonObject } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
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
import { SessionOrder, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { timestampFromUs, timestampToUs } from "../api/convert.js";
import { fromRemoteEvent, msToUs, tempEntries, toJson, toRemoteEvent } from "./event-mapping.js";

/** Options of {@link RemoteSessionService}. */
export interface RemoteSessionServiceOptions {
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: string;
}

/** Sessions read per ListSessions call while listing. */
const LIST_PAGE_SIZE = 1000;

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
  /** The server's last_sequence each handed-out session was loaded at, to notice appends by others. */
  private readonly loadedAt = new WeakMap<AdkSession, number>();

  /** `target` is the server's base URL (gRPC over HTTP/2) or any Connect transport. */
  constructor(target: string | Transport, options: RemoteSessionServiceOptions = {}) {
    super();
    const transport = typeof target === "string" ? createGrpcTransport({ baseUrl: target }) : target;
    this.client = createClient(SessionService, transport);
    this.callOptions = options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {};
  }

  override async createSession({ appName, userId, state, sessionId }: CreateSessionRequest): Promise<AdkSession> {
    const res = await this.client.createSession(
      { appName, userId, sessionId: sessionId || undefined, state: toJson(state ?? {}) as JsonObject },
      this.callOptions,
    );
    return this.adopt(res.session!);
  }

  override async getSession({ appName, userId, sessionId, config }: GetSessionRequest): Promise<AdkSession | undefined> {
    try {
      const res = await this.client.getSession(
        {
          appName,
          userId,
          sessionId,
          // Python ADK: 0 (or unset) means every event.
          numRecentEvents: config?.numRecentEvents ? config.numRecentEvents : undefined,
          afterTime: config?.afterTimestamp ? timestampFromUs(msToUs(config.afterTimestamp)) : undefined,
        },
        this.callOptions,
      );
      return this.adopt(res.session!);
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) return undefined;
      throw error;
    }
  }

  override async listSessions({ appName, userId, limit, offset, page, order }: ListSessionsRequest): Promise<ListSessionsResponse> {
    const all: AdkSession[] = [];
    let pageToken = "";
    do {
      const res = await this.client.listSessions(
        {
          appName,
          userId,
          pageSize: LIST_PAGE_SIZE,
          pageToken,
          order: order === "asc" ? SessionOrder.UPDATE_TIME_ASC : SessionOrder.UPDATE_TIME_DESC,
        },
        this.callOptions,
      );
      for (const session of res.sessions) all.push(toAdkSession(session));
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    return paginate(all, limit, offset, page);
  }

  override async deleteSession({ appName, userId, sessionId }: DeleteSessionRequest): Promise<void> {
    try {
      await this.client.deleteSession({ appName, userId, sessionId }, this.callOptions);
    } catch (error) {
      if (ConnectError.from(error).code !== Code.NotFound) throw error;
    }
  }

  /**
   * Stores the event (partial events are not stored), then updates the
   * session object the way ADK does. When another writer appended since the
   * session was loaded, its state and events are reloaded first, as ADK's
   * DatabaseSessionService does. `temp:` keys reach `session.state` for the
   * rest of the invocation but are never stored (Python ADK).
   */
  override async appendEvent({ session, event }: AppendEventRequest): Promise<AdkEvent> {
    if (event.partial) return event;
    const temp = tempEntries(event.actions?.stateDelta);
    const res = await this.client.appendEvent(
      { appName: session.appName, userId: session.userId, sessionId: session.id, event: toRemoteEvent(event) },
      this.callOptions,
    );
    const assigned = res.event!;
    if (!event.id) event.id = assigned.id;
    if (!event.timestamp) event.timestamp = timestampToMs(assigned.timestamp);
    const lastSequence = Number(res.sessionLastSequence);
    const loadedAt = this.loadedAt.get(session);
    if (loadedAt !== undefined && assigned.sequence > 0n && Number(assigned.sequence) > loadedAt + 1) {
      await this.reload(session);
    }
    await super.appendEvent({ session, event });
    for (const [key, value] of temp) session.state[key] = value;
    session.lastUpdateTime = event.timestamp;
    this.loadedAt.set(session, Math.max(lastSequence, loadedAt ?? 0));
    return event;
  }

  /** Replaces a session object's state and events with the stored ones, keeping its `temp:` keys. */
  private async reload(session: AdkSession): Promise<void> {
    const res = await this.client.getSession(
      { appName: session.appName, userId: session.userId, sessionId: session.id },
      this.callOptions,
    );
    const fresh = toAdkSession(res.session!);
    session.state = { ...fresh.state, ...Object.fromEntries(tempEntries(session.state)) };
    session.events = fresh.events;
  }

  private adopt(remote: Session): AdkSession {
    const session = toAdkSession(remote);
    this.loadedAt.set(session, Number(remote.lastSequence));
    return session;
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

/** ADK's page arithmetic (limit, offset, 1-based page) over the full listing. */
function paginate(all: AdkSession[], limit?: number, offset?: number, page?: number): ListSessionsResponse {
  const totalItems = all.length;
  if (limit === undefined) {
    return { sessions: offset ? all.slice(offset) : all, page: 1, limit: totalItems, totalItems, totalPages: totalItems === 0 ? 0 : 1 };
  }
  const start = page !== undefined ? (page - 1) * limit : (offset ?? 0);
  return {
    sessions: all.slice(start, start + limit),
    page: page ?? (limit === 0 ? 1 : Math.floor(start / limit) + 1),
    limit,
    totalItems,
    totalPages: limit === 0 ? 0 : Math.ceil(totalItems / limit),
  };
}
