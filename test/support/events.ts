import { eventDataOf } from "../../src/core/event-data.js";
import type { EventData } from "../../src/core/types.js";

/** Event data with every field empty except the id (and the author "user"), then `fields`: for tests that talk to stores directly. */
export function eventData(id: string, fields: Partial<EventData> = {}): EventData {
  return eventDataOf(id, { author: "user", ...fields });
}
