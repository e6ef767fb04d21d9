import {
  type Checkpoint,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  maxChannelVersion,
  type SerializerProtocol,
  TASKS,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { isNotFound } from "../../client/private/connection.js";
import type { EventFilterInit, SessiondClient, SessionRef } from "../../client/sessiond-client.js";
import type { Event } from "../../client/types.js";
import { decodeValue } from "./encoding.js";
import { channelValueKey, checkpointEventId } from "./keys.js";

/** Authors of the saver's events, one per kind. */
export const AUTHORS = { checkpoint: "checkpoint", channel: "channel", write: "write" } as const;

/** Session state key naming the newest checkpoint put, so that getTuple without an id reads one key. */
export const LATEST_KEY = "checkpoint_id";

/** Where one thread's checkpoint namespace lives, and how tuples' configs name it. */
export interface Place {
  threadId: string;
  checkpointNs: string;
  ref: SessionRef;
}

/** Channel values already read during one call, by session and event key. */
export type ValueCache = Map<string, Promise<{ value: unknown } | undefined>>;

/** Turns stored events back into LangGraph checkpoint tuples. */
export class TupleReader {
  constructor(
    private readonly client: SessiondClient,
    private readonly serde: SerializerProtocol,
    private readonly nextVersion: (current: undefined) => number,
  ) {}

  /** The session's events matching `filter`; none when the session does not exist. */
  async checkpointEvents(ref: SessionRef, filter: EventFilterInit): Promise<Event[]> {
    const events: Event[] = [];
    try {
      for await (const event of this.client.events(ref, { filter })) events.push(event);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return events;
  }

  /** A checkpoint event's metadata. */
  async metadata(event: Event): Promise<unknown> {
    return decodeValue(this.serde, event.content?.metadata);
  }

  /**
   * The tuple of a checkpoint event. `related` are the events stored under
   * its invocation id (the checkpoint and its writes) when already read.
   */
  async tuple(place: Place, event: Event, related?: Event[], cache: ValueCache = new Map()): Promise<CheckpointTuple> {
    const content = event.content ?? {};
    const checkpointId = String(content.checkpoint_id ?? event.id);
    const parentId = typeof content.parent_checkpoint_id === "string" ? content.parent_checkpoint_id : undefined;
    const stored = related ?? (await this.checkpointEvents(place.ref, { invocationId: event.invocationId }));
    const [checkpoint, metadata, pendingWrites] = await Promise.all([
      this.checkpoint(place.ref, content.checkpoint, cache),
      this.metadata(event),
      this.writes(stored),
    ]);
    if (checkpoint.v < 4 && parentId !== undefined) await this.migratePendingSends(place.ref, checkpoint, parentId);
    const configOf = (id: string) => ({ configurable: { thread_id: place.threadId, checkpoint_ns: place.checkpointNs, checkpoint_id: id } });
    const tuple: CheckpointTuple = { config: configOf(checkpointId), checkpoint, metadata: metadata as CheckpointTuple["metadata"], pendingWrites };
    if (parentId !== undefined) tuple.parentConfig = configOf(parentId);
    return tuple;
  }

  /** The checkpoint with the values of its channel versions, each read from the event that stored it. */
  private async checkpoint(ref: SessionRef, stored: unknown, cache: ValueCache): Promise<Checkpoint> {
    const checkpoint = (await decodeValue(this.serde, stored)) as Checkpoint;
    const values: Record<string, unknown> = {};
    await Promise.all(
      Object.entries(checkpoint.channel_versions ?? {}).map(async ([channel, version]) => {
        const key = channelValueKey(channel, version);
        const cacheKey = JSON.stringify([ref.userId, ref.sessionId, key]);
        let found = cache.get(cacheKey);
        if (!found) cache.set(cacheKey, (found = this.channelValue(ref, key)));
        const value = await found;
        if (value) values[channel] = value.value;
      }),
    );
    // Keep the channel order of the versions map, as the saved checkpoint had it.
    checkpoint.channel_values = Object.fromEntries(Object.keys(checkpoint.channel_versions ?? {}).filter((c) => Object.hasOwn(values, c)).map((c) => [c, values[c]]));
    return checkpoint;
  }

  private async channelValue(ref: SessionRef, key: string): Promise<{ value: unknown } | undefined> {
    const [event] = await this.checkpointEvents(ref, { invocationId: key });
    const content = event?.content;
    if (!content || event.author !== AUTHORS.channel || content.empty === true) return undefined;
    return { value: await decodeValue(this.serde, content.value) };
  }

  /**
   * The pending writes among `events`, in LangGraph's write order. Of writes
   * under the same task and index the first stored counts, for special
   * channels (negative index) the last.
   */
  private async writes(events: Event[]): Promise<CheckpointPendingWrite[]> {
    const byKey = new Map<string, { taskId: string; taskPath: string; idx: number; channel: string; value: unknown }>();
    for (const event of events) {
      if (event.author !== AUTHORS.write || !event.content) continue;
      const { task_id, task_path, channel, idx, value } = event.content;
      const write = { taskId: String(task_id), taskPath: String(task_path ?? ""), idx: Number(idx), channel: String(channel), value };
      const key = JSON.stringify([write.taskId, write.idx]);
      if (write.idx >= 0 && byKey.has(key)) continue;
      byKey.set(key, write);
    }
    const ordered = [...byKey.values()].sort((a, b) =>
      compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx), writesSortKey(b.taskPath, b.taskId, b.idx)),
    );
    return Promise.all(ordered.map(async (w) => [w.taskId, w.channel, await decodeValue(this.serde, w.value)] as CheckpointPendingWrite));
  }

  /** Checkpoints before format 4 kept pending sends as writes of the parent (LangGraph's savers migrate them alike). */
  private async migratePendingSends(ref: SessionRef, checkpoint: Checkpoint, parentId: string): Promise<void> {
    const parentWrites = await this.writes(await this.checkpointEvents(ref, { invocationId: checkpointEventId(parentId) }));
    checkpoint.channel_values ??= {};
    checkpoint.channel_values[TASKS] = parentWrites.filter(([, channel]) => channel === TASKS).map(([, , value]) => value);
    checkpoint.channel_versions ??= {};
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.nextVersion(undefined);
  }
}
