import type { JsonObject } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  getCheckpointId,
  type PendingWrite,
  type SerializerProtocol,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import type { TokenSource } from "../client/bearer-token.js";
import { type Connection, isAlreadyExists, isNotFound, openConnection } from "../client/private/connection.js";
import type { EventInit } from "../client/sessiond-client.js";
import type { Event, Session } from "../client/types.js";
import { encodeValue } from "./private/encoding.js";
import { channelValueKey, checkpointEventId, namespaceSessionId, threadUserId, writeEventId } from "./private/keys.js";
import { AUTHORS, LATEST_KEY, type Place, TupleReader, type ValueCache } from "./private/tuple-reader.js";

/** Options of {@link SessiondSaver}. */
export interface SessiondSaverOptions {
  /** The sessiond app that holds the checkpoints; default "langgraph". */
  appName?: string;
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: TokenSource;
  /** How checkpoints, metadata and writes are serialized; LangGraph's JSON serializer by default. */
  serde?: SerializerProtocol;
}

/**
 * A LangGraph checkpoint saver that keeps checkpoints in sessiond, for
 * `graph.compile({ checkpointer })`:
 *
 * ```ts
 * const checkpointer = new SessiondSaver("http://127.0.0.1:50051", { token });
 * const graph = builder.compile({ checkpointer });
 * ```
 *
 * A thread is a user of the saver's app and each checkpoint namespace of it
 * a session; checkpoints, channel values and pending writes are events of
 * that session (docs/frameworks.md has the layout).
 */
export class SessiondSaver extends BaseCheckpointSaver {
  readonly appName: string;
  private readonly connection: Connection;
  private readonly reader: TupleReader;

  /** `target` is the server's base URL (gRPC over HTTP/2) or any Connect transport. */
  constructor(target: string | Transport, options: SessiondSaverOptions = {}) {
    super(options.serde);
    this.appName = options.appName ?? "langgraph";
    this.connection = openConnection(target, options.token);
    this.reader = new TupleReader(this.connection.client, this.serde, (v) => this.getNextVersion(v));
  }

  /** Closes the connection this saver opened; a later call opens a new one. */
  async close(): Promise<void> {
    this.connection.close();
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id;
    if (threadId === undefined || threadId === null) return undefined;
    const place = this.place(String(threadId), String(config.configurable?.checkpoint_ns ?? ""));
    let checkpointId = getCheckpointId(config);
    if (!checkpointId) {
      let session: Session;
      try {
        session = await this.connection.client.getSession({ ...place.ref, numRecentEvents: 0 });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const latest = session.state?.[LATEST_KEY];
      if (typeof latest !== "string") return undefined;
      checkpointId = latest;
    }
    const stored = await this.reader.checkpointEvents(place.ref, { invocationId: checkpointEventId(checkpointId) });
    const event = stored.find((e) => e.author === AUTHORS.checkpoint);
    if (!event) return undefined;
    return this.reader.tuple(place, event, stored);
  }

  /**
   * Checkpoints newest first (by checkpoint id, as LangGraph's savers order
   * them), across every thread and namespace the config leaves open.
   * `filter.source` is matched by the server; other metadata keys here.
   */
  override async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options;
    let remaining = options.limit;
    const beforeId = before?.configurable?.checkpoint_id as string | undefined;
    const onlyId = config.configurable?.checkpoint_id as string | undefined;
    const candidates: { place: Place; event: Event; id: string }[] = [];
    for (const place of await this.places(config)) {
      const events = await this.reader.checkpointEvents(place.ref, {
        author: AUTHORS.checkpoint,
        invocationId: onlyId ? checkpointEventId(onlyId) : undefined,
        branch: typeof filter?.source === "string" ? filter.source : undefined,
      });
      for (const event of events) {
        const id = checkpointIdOf(event);
        if (onlyId && id !== onlyId) continue;
        if (beforeId && id >= beforeId) continue;
        candidates.push({ place, event, id });
      }
    }
    candidates.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    // Neighbouring checkpoints share most channel values: read each once per call.
    const values: ValueCache = new Map();
    for (const { place, event } of candidates) {
      if (remaining !== undefined && remaining <= 0) return;
      if (filter && Object.keys(filter).length > 0) {
        const metadata = (await this.reader.metadata(event)) as Record<string, unknown> | undefined;
        if (!Object.entries(filter).every(([key, value]) => metadata?.[key] === value)) continue;
      }
      if (remaining !== undefined) remaining -= 1;
      yield await this.reader.tuple(place, event, undefined, values);
    }
  }

  /**
   * Stores the checkpoint and the values of the channels in `newVersions`
   * in one atomic append. Putting a checkpoint id that is already stored is
   * an idempotent retry: the stored checkpoint stays.
   */
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const threadId = config.configurable?.thread_id;
    if (threadId === undefined || threadId === null) {
      throw new Error('Failed to put checkpoint: the config has no "thread_id" in its "configurable" property.');
    }
    const place = this.place(String(threadId), String(config.configurable?.checkpoint_ns ?? ""));
    const parentId = config.configurable?.checkpoint_id as string | undefined;
    const { channel_values: values, ...rest } = checkpoint;
    const events: EventInit[] = [];
    for (const [channel, version] of Object.entries(newVersions)) {
      const key = channelValueKey(channel, version);
      const stored: JsonObject = Object.hasOwn(values ?? {}, channel) ? { value: await encodeValue(this.serde, values[channel]) } : { empty: true };
      events.push({ id: key, invocationId: key, author: AUTHORS.channel, content: { channel, version: String(version), ...stored } });
    }
    const id = checkpointEventId(checkpoint.id);
    const content: JsonObject = {
      checkpoint_id: checkpoint.id,
      checkpoint: await encodeValue(this.serde, { ...rest, channel_values: {} }),
      metadata: await encodeValue(this.serde, metadata),
    };
    if (parentId) content.parent_checkpoint_id = parentId;
    events.push({
      id,
      invocationId: id,
      author: AUTHORS.checkpoint,
      branch: typeof metadata?.source === "string" ? metadata.source : "",
      content,
      actions: { stateDelta: { [LATEST_KEY]: checkpoint.id } },
    });
    await this.append(place, events);
    return { configurable: { thread_id: place.threadId, checkpoint_ns: place.checkpointNs, checkpoint_id: checkpoint.id } };
  }

  /**
   * Stores a task's writes against a checkpoint in one atomic append. A
   * write stored before under the same task and index is kept (LangGraph's
   * savers ignore it too), except the special channels (errors,
   * interrupts, resume values), where the newest one counts.
   */
  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const threadId = config.configurable?.thread_id;
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (threadId === undefined || threadId === null) {
      throw new Error('Failed to put writes: the config has no "thread_id" in its "configurable" property.');
    }
    if (!checkpointId) throw new Error('Failed to put writes: the config has no "checkpoint_id" in its "configurable" property.');
    if (writes.length === 0) return;
    const place = this.place(String(threadId), String(config.configurable?.checkpoint_ns ?? ""));
    const invocationId = checkpointEventId(checkpointId);
    const events: EventInit[] = [];
    for (const [i, [channel, value]] of writes.entries()) {
      const idx = WRITES_IDX_MAP[channel] ?? i;
      const id = writeEventId(checkpointId, taskId, idx);
      events.push({
        // Special writes replace earlier ones, so each gets an id of its own.
        id: idx < 0 ? `${id}:${crypto.randomUUID()}` : id,
        invocationId,
        author: AUTHORS.write,
        content: { task_id: taskId, task_path: taskPath ?? "", channel, idx, value: await encodeValue(this.serde, value) },
      });
    }
    await this.append(place, events);
  }

  /** Deletes every checkpoint namespace of the thread: one DeleteUserSessions. */
  override async deleteThread(threadId: string): Promise<void> {
    await this.connection.client.rpc.deleteUserSessions({ appName: this.appName, userId: threadUserId(String(threadId)) });
  }

  /**
   * The next integer plus a random fraction: still increasing, and a fork
   * from an earlier checkpoint never reuses a version that another branch
   * stored a different value under (values are kept per channel version).
   */
  override getNextVersion(current: number | undefined): number {
    const counter = current === undefined ? 0 : Math.floor(Number.parseFloat(String(current)) || 0);
    return counter + 1 + Math.random();
  }

  private place(threadId: string, checkpointNs: string): Place {
    return {
      threadId,
      checkpointNs,
      ref: { appName: this.appName, userId: threadUserId(threadId), sessionId: namespaceSessionId(checkpointNs) },
    };
  }

  /** The namespaces a list call covers, with their thread ids and namespaces from session metadata. */
  private async places(config: RunnableConfig): Promise<Place[]> {
    const threadId = config.configurable?.thread_id;
    const checkpointNs = config.configurable?.checkpoint_ns;
    if (threadId !== undefined && threadId !== null && checkpointNs !== undefined) return [this.place(String(threadId), String(checkpointNs))];
    const found: Place[] = [];
    const userId = threadId === undefined || threadId === null ? undefined : threadUserId(String(threadId));
    for await (const page of this.connection.client.listSessions({ appName: this.appName, userId })) {
      for (const session of page) {
        const meta = session.metadata ?? {};
        if (typeof meta.thread_id !== "string" || typeof meta.checkpoint_ns !== "string") continue;
        if (checkpointNs !== undefined && meta.checkpoint_ns !== checkpointNs) continue;
        found.push({ threadId: meta.thread_id, checkpointNs: meta.checkpoint_ns, ref: { appName: this.appName, userId: session.userId, sessionId: session.id } });
      }
    }
    return found;
  }

  /** Appends atomically; the session is created by the first append that finds none. */
  private async append(place: Place, events: EventInit[]): Promise<void> {
    try {
      await this.connection.client.appendEvents(place.ref, events);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.create(place);
      await this.connection.client.appendEvents(place.ref, events);
    }
  }

  private async create(place: Place): Promise<void> {
    try {
      await this.connection.client.createSession({
        ...place.ref,
        metadata: { thread_id: place.threadId, checkpoint_ns: place.checkpointNs },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
}

/** The LangGraph checkpoint id a checkpoint event stores. */
function checkpointIdOf(event: Event): string {
  const id = event.content?.checkpoint_id;
  return typeof id === "string" ? id : event.id;
}
