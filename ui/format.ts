import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type Event, EventSchema, SessionStatus } from "../src/client/web.js";

/** A timestamp as local date and time, or "—". */
export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  const d = timestampDate(ts);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
}

/** ACTIVE, COMPLETED, FAILED. */
export function statusName(status: SessionStatus): string {
  return SessionStatus[status]?.toLowerCase() ?? String(status);
}

/** Indented JSON for a state, metadata or message. */
export function prettyJson(value: JsonValue | undefined): string {
  return value === undefined ? "{}" : JSON.stringify(value, null, 2);
}

/** The event in proto JSON form, for the details view. */
export function eventJson(event: Event): string {
  return prettyJson(toJson(EventSchema, event));
}

/** The text parts of an event's content joined, or a short description of what it carries. */
export function eventSummary(event: Event): string {
  const parts = event.content?.parts;
  const texts: string[] = [];
  if (Array.isArray(parts)) {
    for (const part of parts) {
      if (part && typeof part === "object" && !Array.isArray(part)) {
        if (typeof part.text === "string") texts.push(part.text);
        else texts.push(`[${Object.keys(part).join(", ")}]`);
      }
    }
  }
  if (texts.length > 0) return texts.join(" ");
  if (event.errorMessage) return `error: ${event.errorMessage}`;
  const delta = event.actions?.stateDelta;
  if (delta && Object.keys(delta).length > 0) return `state: ${Object.keys(delta).join(", ")}`;
  return "";
}
