import type { EventData } from "../../src/core/types.js";

/** Event data with every field empty except the id, then `fields`: for tests that talk to stores directly. */
export function eventData(id: string, fields: Partial<EventData> = {}): EventData {
  return {
    id,
    invocationId: "",
    agentId: "",
    author: "user",
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
