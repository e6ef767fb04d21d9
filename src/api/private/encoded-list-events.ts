import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { ListEventsResponseSchema, type SessionService } from "../../../gen/sessiond/v1/session_service_pb.js";
import { binaryResponse, encodedEvents } from "./event-encoder.js";

type ListEvents = ServiceImpl<typeof SessionService>["listEvents"];

const EVENTS_FIELD = ListEventsResponseSchema.field.events.number;

/**
 * ListEvents with its page of events written by the direct event encoder
 * when the response is binary; JSON responses are left as they are.
 */
export function encodedListEvents(listEvents: ListEvents): ListEvents {
  return async (req, ctx: HandlerContext) => {
    const response = create(ListEventsResponseSchema, await listEvents(req, ctx));
    if (!binaryResponse(ctx) || response.events.length === 0) return response;
    response.$unknown = encodedEvents(response.events, EVENTS_FIELD);
    response.events = [];
    return response;
  };
}
