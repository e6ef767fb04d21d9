import { createHash } from "node:crypto";
import { requireId } from "../../api/validate.js";

/**
 * How LangGraph's identifiers become sessiond ones. A thread is a user of
 * the saver's app, so deleting a thread is one DeleteUserSessions; each
 * checkpoint namespace of the thread is one session. Identifiers sessiond
 * would refuse (over 128 characters, control characters) are replaced by a
 * digest; the original values travel in the session's metadata.
 */


/** The user id of a thread. */
export function threadUserId(threadId: string): string {
  return usable(threadId) ? threadId : `#${digest(threadId)}`;
}

/** The session id of a checkpoint namespace ("" is the root graph's). */
export function namespaceSessionId(checkpointNs: string): string {
  const id = `ns:${checkpointNs}`;
  return usable(id) ? id : `ns#${digest(checkpointNs)}`;
}

/** The event id of a checkpoint: its own id when sessiond accepts it. */
export function checkpointEventId(checkpointId: string): string {
  return usable(checkpointId) ? checkpointId : `checkpoint#${digest(checkpointId)}`;
}

/**
 * Event id and invocation id of the stored value of one channel version,
 * so that reading it is a lookup on the (session, invocation id) index.
 */
export function channelValueKey(channel: string, version: string | number): string {
  return `channel#${digest(JSON.stringify([channel, String(version)]))}`;
}

/** Event id of one pending write; the same write stored twice is an idempotent retry. */
export function writeEventId(checkpointId: string, taskId: string, idx: number): string {
  return `write#${digest(JSON.stringify([checkpointId, taskId, idx]))}`;
}

/** Whether sessiond accepts `id` as an identifier. */
function usable(id: string): boolean {
  try {
    requireId("id", id);
    return true;
  } catch {
    return false;
  }
}

function digest(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
