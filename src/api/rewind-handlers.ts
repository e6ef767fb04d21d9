import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { RewindSessionRequest, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { effectiveRanges } from "../core/effective-history.js";
import { invalidArgument, SessiondError } from "../core/errors.js";
import { limits } from "../core/limits.js";
import { rewindMarkerEvent } from "../core/rewind.js";
import { nowUs } from "../core/time.js";
import type { RewindAction, SessionKey, StoredEvent } from "../core/types.js";
import type { Store } from "../stores/store.js";
import { eventToProto, sessionToProto } from "./convert.js";
import type { AppendListener } from "./event-handlers.js";
import { stateAsOf } from "./private/history.js";
import { checkText, nonNegative, requireId, sessionKeyOf } from "./validate.js";

type RewindHandlers = Pick<ServiceImpl<typeof SessionService>, "rewindSession" | "forkSession">;

/** Attempts of a rewind without expected_last_sequence when appends keep racing it. */
const REWIND_ATTEMPTS = 20;

/** Handlers of RewindSession and ForkSession. */
export function rewindHandlers(store: Store, onAppended: AppendListener): RewindHandlers {
  return {
    async rewindSession(req) {
      const key = sessionKeyOf(req);
      const target = rewindTarget(req);
      const expected = req.expectedLastSequence === undefined ? undefined : nonNegative("expected_last_sequence", req.expectedLastSequence);
      const id = req.eventId === "" ? randomUUID() : requireId("event_id", req.eventId);
      const invocationId = checkText("invocation_id", req.invocationId, limits.maxIdLength * 2);
      const author = checkText("author", req.author);
      for (let attempt = 1; ; attempt++) {
        const { view } = await store.getSession(key, { numRecentEvents: 0 });
        const last = view.session.lastSequence;
        const rewind = await resolveTarget(store, key, target, last);
        const { delta } = await stateAsOf(store, key, view.session.state, last, rewind.targetSequence, false);
        const now = nowUs();
        const marker = rewindMarkerEvent({ id, invocationId, author, nowUs: now, rewind, delta });
        let sequence: number;
        try {
          const outcome = await store.appendEvents(key, { events: [marker], expectedLastSequence: expected ?? last, nowUs: now });
          sequence = outcome.events[0]!.sequence;
        } catch (error) {
          // Without the client's guard the rewind is recomputed against the appends that won.
          if (expected === undefined && attempt < REWIND_ATTEMPTS && error instanceof SessiondError && error.kind === "aborted") continue;
          throw error;
        }
        onAppended(key);
        const stored = await store.readEvents(key, { filter: {}, afterSequence: sequence - 1, limit: 1 });
        const event = stored[0];
        if (!event?.actions?.rewind) throw invalidArgument("event_id", "names a stored event that is not a rewind marker");
        const after = await store.getSession(key, { numRecentEvents: 0 });
        return { event: eventToProto(event, key.sessionId), session: sessionToProto(after.view) };
      }
    },

    async forkSession(req) {
      const source = sessionKeyOf(req);
      const through = req.sequence === undefined ? undefined : nonNegative("sequence", req.sequence);
      const target: SessionKey = {
        appName: source.appName,
        userId: req.newUserId === undefined ? source.userId : requireId("new_user_id", req.newUserId),
        sessionId: req.newSessionId === undefined ? randomUUID() : requireId("new_session_id", req.newSessionId),
      };
      const { view } = await store.getSession(source, { numRecentEvents: 0 });
      const last = view.session.lastSequence;
      const sequence = through ?? last;
      if (sequence > last) throw invalidArgument("sequence", `is after the session's last sequence ${last}`);
      const { state, markers } = await stateAsOf(store, source, view.session.state, last, sequence, true);
      const forked = await store.forkSession({
        source,
        target,
        ranges: effectiveRanges(markers, sequence),
        throughSequence: sequence,
        state,
        initialState: await store.readInitialState(source),
        agentId: view.session.agentId,
        metadata: view.session.metadata,
        forkedFrom: { sessionId: source.sessionId, userId: source.userId, sequence },
        nowUs: nowUs(),
      });
      return { session: sessionToProto(forked) };
    },
  };
}

type Target = { sequence: number } | { invocationId: string };

function rewindTarget(req: RewindSessionRequest): Target {
  switch (req.target.case) {
    case "targetSequence":
      return { sequence: nonNegative("target_sequence", req.target.value) };
    case "beforeInvocationId":
      if (req.target.value === "") throw invalidArgument("before_invocation_id", "is required");
      return { invocationId: checkText("before_invocation_id", req.target.value, limits.maxIdLength * 2) };
    default:
      throw invalidArgument("target", "set target_sequence or before_invocation_id");
  }
}

/**
 * The rewind's target against the session as read. An invocation is looked
 * up in the raw log (as ADK's rewind does), so a retry after the marker
 * resolves to the same target and finds the marker stored.
 */
async function resolveTarget(store: Store, key: SessionKey, target: Target, last: number): Promise<RewindAction> {
  if ("sequence" in target) {
    if (target.sequence > last) throw invalidArgument("target_sequence", `is after the session's last sequence ${last}`);
    return { targetSequence: target.sequence, lastRewoundSequence: last };
  }
  const [first]: StoredEvent[] = await store.readEvents(key, { filter: { invocationId: target.invocationId }, afterSequence: 0, limit: 1 });
  if (!first || first.sequence > last) {
    throw invalidArgument("before_invocation_id", `no event of invocation ${JSON.stringify(target.invocationId)} is stored in the session`);
  }
  return { targetSequence: first.sequence - 1, lastRewoundSequence: last, beforeInvocationId: target.invocationId };
}
