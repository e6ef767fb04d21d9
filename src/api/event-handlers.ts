import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Event } from "../../gen/sessiond/v1/session_pb.js";
import {
  AppendEventResponseSchema,
  AppendEventsResponseSchema,
  type EventFilter as EventFilterMessage,
  ListEventsResponseSchema,
  type SessionService,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { decodeEventToken, encodeEventToken, queryFingerprint } from "../core/cursor.js";
import { rangesAfter } from "../core/effective-history.js";
import { invalidArgument } from "../core/errors.js";
import { nowUs } from "../core/time.js";
import type { AssignedEvent, EventFilter, PendingEvent, SessionKey } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { assignedToProto, eventToProto } from "./convert.js";
import { attachEncoding, takesEncodedResponse } from "./encoded-response.js";
import { structsOf } from "./json-request.js";
import { binaryResponse, encodeAppendResponse, encodedTail, withEncodedEvents } from "./private/event-encoder.js";
import { collectRangeEvents, readEffectiveRanges } from "./private/history.js";
import { checkText, effectiveView, nonNegative, pageSize, pendingEvents, sessionKeyOf, timeUs } from "./validate.js";

type EventHandlers = Pick<ServiceImpl<typeof SessionService>, "appendEvent" | "appendEvents" | "listEvents">;

/** Called after events were stored, so same-process followers wake at once. */
export type AppendListener = (key: SessionKey) => void;

/** Handlers that write and page events. */
export function eventHandlers(store: Store, onAppended: AppendListener): EventHandlers {
  async function append(key: SessionKey, field: string, events: Event[], expected: bigint | undefined) {
    const now = nowUs();
    const { pending, partialIndexes } = pendingEvents(field, events, now);
    const expectedLastSequence = expected === undefined ? undefined : nonNegative("expected_last_sequence", expected);
    const durable: PendingEvent[] = [];
    pending.forEach((p, i) => {
      if (partialIndexes.has(i)) return;
      if (store.keepsEncodedTails) p.event.encodedTail = encodedTail(p.event, structsOf(events[i]!));
      durable.push(p);
    });
    let assigned: AssignedEvent[] = [];
    let lastSequence: number;
    if (durable.length > 0) {
      const outcome = await store.appendEvents(key, { events: durable, expectedLastSequence, nowUs: now });
      assigned = outcome.events;
      lastSequence = outcome.lastSequence;
      onAppended(key);
    } else {
      // Only partial events: nothing is written, but the session must exist.
      lastSequence = (await store.getSession(key, { numRecentEvents: 0 })).view.session.lastSequence;
    }
    let next = 0;
    const replies = pending.map(({ event }, i) =>
      partialIndexes.has(i)
        ? { ...assignedToProto({ id: event.id, sequence: 0, timestampUs: event.timestampUs }, key.sessionId), partial: true }
        : assignedToProto(assigned[next++]!, key.sessionId),
    );
    return { replies, lastSequence: BigInt(lastSequence) };
  }

  return {
    async appendEvent(req, ctx) {
      const key = sessionKeyOf(req);
      const { replies, lastSequence } = await append(key, "event", req.event ? [req.event] : [], req.expectedLastSequence);
      if (replies.length === 0) throw missingEvent();
      return withAppendEncoding(ctx, create(AppendEventResponseSchema, { event: replies[0], sessionLastSequence: lastSequence }), replies, lastSequence);
    },

    async appendEvents(req, ctx) {
      const key = sessionKeyOf(req);
      if (req.events.length === 0) throw missingEvent("events");
      const { replies, lastSequence } = await append(key, "events", req.events, req.expectedLastSequence);
      return withAppendEncoding(ctx, create(AppendEventsResponseSchema, { events: replies, sessionLastSequence: lastSequence }), replies, lastSequence);
    },

    async listEvents(req, ctx) {
      const key = sessionKeyOf(req);
      const { filter, afterSequence } = eventFilterOf(req.filter);
      const limit = pageSize("page_size", req.pageSize);
      const effective = effectiveView("view", req.view);
      const binary = binaryResponse(ctx);
      const fingerprint = queryFingerprint(effective ? [key, filter, afterSequence, "effective"] : [key, filter, afterSequence]);
      const after = req.pageToken === "" ? afterSequence : decodeEventToken(req.pageToken, fingerprint);
      const events = effective
        ? await effectivePage(store, key, filter, after, limit + 1)
        : await store.readEvents(key, { filter, afterSequence: after, limit: limit + 1, encoded: binary });
      const page = events.slice(0, limit);
      const nextPageToken = events.length > limit ? encodeEventToken(events[limit - 1]!.sequence, fingerprint) : "";
      if (!binary) return { events: page.map((e) => eventToProto(e, key.sessionId)), nextPageToken };
      // A message, not an init object: unknown fields survive only on messages.
      const response = create(ListEventsResponseSchema, { nextPageToken });
      const parent = { schema: ListEventsResponseSchema, message: response };
      return withEncodedEvents(ctx, response, parent, page, key.sessionId, ListEventsResponseSchema.field.events.number);
    },
  };
}

/** The response, with its encoding attached where the transport sends it (see encoded-response.ts). */
function withAppendEncoding<T extends object>(ctx: HandlerContext, response: T, replies: Event[], lastSequence: bigint): T {
  return takesEncodedResponse(ctx) ? attachEncoding(response, encodeAppendResponse(replies, lastSequence)) : response;
}

/** Domain filter and start cursor of a request's EventFilter. */
export function eventFilterOf(message: EventFilterMessage | undefined): { filter: EventFilter; afterSequence: number } {
  if (!message) return { filter: {}, afterSequence: 0 };
  const filter: EventFilter = {};
  if (message.invocationId !== undefined) filter.invocationId = checkText("filter.invocation_id", message.invocationId);
  if (message.agentId !== undefined) filter.agentId = checkText("filter.agent_id", message.agentId);
  if (message.author !== undefined) filter.author = checkText("filter.author", message.author);
  if (message.branch !== undefined) filter.branch = checkText("filter.branch", message.branch);
  const start = timeUs("filter.start_time", message.startTime);
  if (start !== undefined) filter.startTimeUs = start;
  const end = timeUs("filter.end_time", message.endTime);
  if (end !== undefined) filter.endTimeUs = end;
  return { filter, afterSequence: nonNegative("filter.after_sequence", message.afterSequence) };
}

/** Up to `limit` matching events of the effective history after a sequence. */
async function effectivePage(store: Store, key: SessionKey, filter: EventFilter, after: number, limit: number) {
  const last = (await store.getSession(key, { numRecentEvents: 0 })).view.session.lastSequence;
  const ranges = rangesAfter(await readEffectiveRanges(store, key, last), after);
  return collectRangeEvents(store, key, ranges, filter, limit);
}

function missingEvent(field = "event") {
  return invalidArgument(field, "is required");
}
