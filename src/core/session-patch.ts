import { sequenceConflict } from "./errors.js";
import type { SessionPatch, SessionRecord } from "./types.js";

/**
 * The session after an update, for stores that read the row, change it and
 * write it back: checks expected_last_sequence, then applies the fields the
 * patch sets and the update time.
 */
export function patchSession(record: SessionRecord, patch: SessionPatch): SessionRecord {
  if (patch.expectedLastSequence !== undefined && patch.expectedLastSequence !== record.lastSequence) {
    throw sequenceConflict(patch.expectedLastSequence, record.lastSequence);
  }
  return {
    ...record,
    status: patch.status ?? record.status,
    metadata: patch.metadata ?? record.metadata,
    agentId: patch.agentId ?? record.agentId,
    updateTimeUs: patch.nowUs,
  };
}
