import type { EventData } from "./types.js";

/** Event data with every field empty except the id, then `fields`: events the server makes itself, or knows only in part. */
export function eventDataOf(id: string, fields: Partial<EventData>): EventData {
  return {
    id,
    invocationId: "",
    agentId: "",
    author: "",
    branch: "",
    timestampUs: 0,
    content: null,
    actions: null,
    metadata: null,
    turnComplete: false,
    errorCode: "",
    errorMessage: "",
    longRunningToolIds: [],
    interrupted: false,
    ...fields,
  };
}
