import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { type Event, EventSchema, SessionStatus } from "../src/client/web.js";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** A timestamp as local date and time to the second, or "—". */
export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  const d = new Date(timestampMs(ts));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A timestamp short enough for a table cell: the time of day when it is today, else date and minute. */
export function formatShortTime(ts: Timestamp | undefined, now = new Date()): string {
  if (!ts) return "—";
  const d = new Date(timestampMs(ts));
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A timestamp as local time of day with milliseconds, e.g. 14:03:07.125. */
export function formatClock(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  const d = new Date(timestampMs(ts));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A duration in milliseconds, short: 340 ms, 2.41 s, 3 m 05 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor(s / 60) % 60)} m`;
}

/** Milliseconds since the epoch of an event, or undefined. */
export function eventMs(event: Event): number | undefined {
  return event.timestamp ? timestampMs(event.timestamp) : undefined;
}

/** A count with thousands separators. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString("en-US");
}

/** ACTIVE, COMPLETED, FAILED. */
export function statusName(status: SessionStatus): string {
  return SessionStatus[status]?.toLowerCase() ?? String(status);
}

/** Indented JSON for a state, metadata or message. */
export function prettyJson(value: JsonValue | undefined): string {
  return value === undefined ? "{}" : JSON.stringify(value, null, 2);
}

/** A value on one line, shortened to `max` characters. */
export function shortJson(value: JsonValue | undefined, max = 60): string {
  const text = value === undefined ? "—" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The event in proto JSON form, for the details view. */
export function eventJson(event: Event): string {
  return prettyJson(toJson(EventSchema, event));
}
