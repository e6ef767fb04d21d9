import type { HandlerContext } from "@connectrpc/connect";
import type { GetEventsRequest, GetEventsResponse } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Store } from "../stores/store.js";
import { eventToProto } from "./convert.js";
import { eventFilterOf } from "./event-handlers.js";
import { nonNegative, sessionKeyOf } from "./validate.js";

/** Events read from the store per round trip. */
const PAGE_SIZE = 500;

/**
 * GetEvents: reads the session page by page with the sequence cursor and
 * yields each page as one message. The generator is pulled by the transport,
 * so the next page is read only once the previous message was written.
 */
export function getEventsHandler(store: Store) {
  return async function* getEvents(
    req: GetEventsRequest,
    ctx: HandlerContext,
  ): AsyncGenerator<Omit<GetEventsResponse, "$typeName">> {
    const key = sessionKeyOf(req);
    const { filter, afterSequence } = eventFilterOf(req.filter);
    const limit = nonNegative("limit", req.limit) || Number.POSITIVE_INFINITY;
    let offset = nonNegative("offset", req.offset);
    let cursor = afterSequence;
    let sent = 0;
    while (sent < limit) {
      ctx.signal.throwIfAborted();
      const want = Math.min(PAGE_SIZE, limit - sent);
      const page = await store.readEvents(key, { filter, afterSequence: cursor, limit: want, offset });
      offset = 0;
      if (page.length > 0) {
        yield { events: page.map((e) => eventToProto(e, key.sessionId)), caughtUp: false };
        cursor = page.at(-1)!.sequence;
        sent += page.length;
      }
      if (page.length < want) break;
    }
    if (req.follow) yield { events: [], caughtUp: true };
  };
}
