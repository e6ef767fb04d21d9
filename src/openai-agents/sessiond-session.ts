import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import type { AgentInputItem, Session } from "@openai/agents-core";
import type { TokenSource } from "../client/bearer-token.js";
import { type Connection, isAlreadyExists, isNotFound, openConnection } from "../client/private/connection.js";
import type { EventInit, SessionRef } from "../client/sessiond-client.js";
import { type Event, HistoryView } from "../client/types.js";
import { limits } from "../core/limits.js";

/** Options of {@link SessiondSession}. */
export interface SessiondSessionOptions {
  /** The session's id; a random UUID when unset (as MemorySession). */
  sessionId?: string;
  /** The sessiond app holding the session; default "openai-agents". */
  appName?: string;
  /** The sessiond user owning the session; default "default". */
  userId?: string;
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: TokenSource;
}

/** How often popItem retries when an append lands between its read and its rewind. */
const POP_ATTEMPTS = 5;

/**
 * An OpenAI Agents SDK session whose conversation history lives in
 * sessiond, for `run(agent, input, { session })`:
 *
 * ```ts
 * const session = new SessiondSession("http://127.0.0.1:50051", { sessionId: "conversation-1", token });
 * await run(agent, "Hello", { session });
 * ```
 *
 * Each item is one event (the item's JSON as content, its role or type as
 * author); docs/frameworks.md has the details.
 */
export class SessiondSession implements Session {
  private readonly ref: SessionRef;
  private readonly connection: Connection;

  /** `target` is the server's base URL (gRPC over HTTP/2) or any Connect transport. */
  constructor(target: string | Transport, options: SessiondSessionOptions = {}) {
    this.ref = { appName: options.appName ?? "openai-agents", userId: options.userId ?? "default", sessionId: options.sessionId ?? randomUUID() };
    this.connection = openConnection(target, options.token);
  }

  /** Closes the connection this session opened; a later call opens a new one. */
  async close(): Promise<void> {
    this.connection.close();
  }

  /** The session id, after creating the sessiond session when it does not exist yet. */
  async getSessionId(): Promise<string> {
    await this.create();
    return this.ref.sessionId;
  }

  /**
   * The items of the effective history (what popItem undid left out), oldest
   * first; with `limit`, the newest `limit` of them, read as such from the server.
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    if (limit !== undefined && limit <= 0) return [];
    try {
      if (limit === undefined) {
        const items: AgentInputItem[] = [];
        for await (const event of this.connection.client.events(this.ref, { effective: true })) items.push(itemOf(event));
        return items;
      }
      const session = await this.connection.client.getSession({ ...this.ref, numRecentEvents: Math.min(limit, 2 ** 31 - 1), view: HistoryView.EFFECTIVE });
      return session.events.map(itemOf);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  /**
   * Appends the items, one event each, in one atomic AppendEvents call (the
   * server takes up to 1000 events a call; more items take several calls,
   * each atomic).
   */
  async addItems(items: AgentInputItem[]): Promise<void> {
    for (let start = 0; start < items.length; start += limits.maxEventsPerBatch) {
      const events = items.slice(start, start + limits.maxEventsPerBatch).map(eventOf);
      try {
        await this.connection.client.appendEvents(this.ref, events);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await this.create();
        await this.connection.client.appendEvents(this.ref, events);
      }
    }
  }

  /**
   * Removes the newest item with one RewindSession to just after the item
   * before it: the raw log keeps the item, the effective history (and so
   * getItems) no longer has it. The rewind is conditional on nothing having
   * been appended since the read; when something was, it reads again.
   */
  async popItem(): Promise<AgentInputItem | undefined> {
    for (let attempt = 1; ; attempt++) {
      let session;
      try {
        session = await this.connection.client.getSession({ ...this.ref, numRecentEvents: 2, view: HistoryView.EFFECTIVE });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const last = session.events.at(-1);
      if (!last) return undefined;
      const target = session.events.length > 1 ? session.events[0]!.sequence : 0n;
      try {
        await this.connection.client.rewindSession(this.ref, { sequence: target }, { expectedLastSequence: session.lastSequence, author: "popItem" });
        return itemOf(last);
      } catch (error) {
        if (attempt >= POP_ATTEMPTS || !(error instanceof ConnectError) || error.code !== Code.Aborted) throw error;
      }
    }
  }

  /**
   * Deletes the sessiond session with its whole log; the next addItems
   * starts a new one under the same id.
   */
  async clearSession(): Promise<void> {
    try {
      await this.connection.client.deleteSession(this.ref);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async create(): Promise<void> {
    try {
      await this.connection.client.createSession(this.ref);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
}

/** The event of one item: its JSON as content, its role (messages) or type (everything else) as author. */
function eventOf(item: AgentInputItem): EventInit {
  const content = JSON.parse(JSON.stringify(item)) as JsonObject;
  const { role, type } = item as { role?: unknown; type?: unknown };
  const author = typeof role === "string" ? role : typeof type === "string" ? type : "item";
  return { author, content };
}

function itemOf(event: Event): AgentInputItem {
  return (event.content ?? {}) as unknown as AgentInputItem;
}
