import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { SessionSchema, SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { GetSessionResponseSchema, SessionOrder, type SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { decodeSessionToken, encodeSessionToken, queryFingerprint } from "../core/cursor.js";
import { invalidArgument } from "../core/errors.js";
import { limits } from "../core/limits.js";
import { sessionCursor } from "../core/match.js";
import { sharedState, splitDelta } from "../core/state.js";
import { nowUs } from "../core/time.js";
import { newestOf } from "../core/effective-history.js";
import type { SessionKey, SessionListQuery, SessionPatch, SessionStatus as DomainStatus, SessionView, StoredEvent } from "../core/types.js";
import type { Store } from "../stores/store.js";
import type { SessionScope } from "./follow-hub.js";
import { sessionToProto, statusFromProto } from "./convert.js";
import { binaryResponse, withEncodedEvents } from "./private/event-encoder.js";
import { collectRangeEvents, readEffectiveRanges } from "./private/history.js";
import { boundedObject, checkText, effectiveView, nonNegative, pageSize, requireId, sessionKeyOf, timeUs } from "./validate.js";

type SessionHandlers = Pick<
  ServiceImpl<typeof SessionService>,
  | "createSession"
  | "getSession"
  | "updateSession"
  | "deleteSession"
  | "listSessions"
  | "deleteUserSessions"
  | "deleteAppSessions"
  | "getUserState"
>;

const UPDATABLE = new Set(["status", "metadata", "agent_id"]);

/** Called after sessions were deleted, so their followers end at once. */
export type DeleteListener = (scope: SessionScope) => void;

/** Handlers for the session lifecycle and shared state. */
export function sessionHandlers(store: Store, onDeleted: DeleteListener = () => {}): SessionHandlers {
  return {
    async createSession(req) {
      const appName = requireId("app_name", req.appName);
      const userId = requireId("user_id", req.userId);
      const id = req.sessionId === undefined ? randomUUID() : requireId("session_id", req.sessionId);
      const state = boundedObject("state", req.state, limits.maxSessionFieldBytes);
      const view = await store.createSession({
        appName,
        userId,
        id,
        agentId: checkText("agent_id", req.agentId, limits.maxIdLength * 2),
        metadata: boundedObject("metadata", req.metadata, limits.maxSessionFieldBytes),
        delta: splitDelta(state).scoped,
        nowUs: nowUs(),
      });
      return { session: sessionToProto(view) };
    },

    async getSession(req, ctx) {
      const key = sessionKeyOf(req);
      const numRecentEvents =
        req.numRecentEvents === undefined ? undefined : nonNegative("num_recent_events", req.numRecentEvents);
      const afterTimeUs = timeUs("after_time", req.afterTime);
      const binary = binaryResponse(ctx);
      const { view, events } = effectiveView("view", req.view)
        ? await effectiveSession(store, key, numRecentEvents, afterTimeUs)
        : await store.getSession(key, { numRecentEvents, afterTimeUs, encoded: binary });
      if (!binary) return { session: sessionToProto(view, events) };
      const session = sessionToProto(view);
      const parent = { schema: SessionSchema, message: session, wrapField: GetSessionResponseSchema.field.session.number };
      return withEncodedEvents(ctx, create(GetSessionResponseSchema, { session }), parent, events, key.sessionId, SessionSchema.field.events.number);
    },

    async updateSession(req) {
      const key = sessionKeyOf(req);
      const paths = req.updateMask?.paths ?? [];
      for (const path of paths) {
        if (!UPDATABLE.has(path)) throw invalidArgument("update_mask", `cannot update ${JSON.stringify(path)}; use status, metadata or agent_id`);
      }
      const wants = (path: string, isSet: boolean) => (paths.length > 0 ? paths.includes(path) : isSet);
      const patch: SessionPatch = { nowUs: nowUs() };
      if (wants("status", req.status !== SessionStatus.UNSPECIFIED)) patch.status = requireStatus(req.status);
      if (wants("metadata", req.metadata !== undefined)) patch.metadata = boundedObject("metadata", req.metadata, limits.maxSessionFieldBytes);
      if (wants("agent_id", req.agentId !== "")) patch.agentId = checkText("agent_id", req.agentId, limits.maxIdLength * 2);
      if (patch.status === undefined && patch.metadata === undefined && patch.agentId === undefined) {
        throw invalidArgument("update_mask", "nothing to update; set status, metadata or agent_id");
      }
      if (req.expectedLastSequence !== undefined) {
        patch.expectedLastSequence = nonNegative("expected_last_sequence", req.expectedLastSequence);
      }
      return { session: sessionToProto(await store.updateSession(key, patch)) };
    },

    async deleteSession(req) {
      const key = sessionKeyOf(req);
      await store.deleteSession(key);
      onDeleted(key);
      return {};
    },

    async listSessions(req) {
      const appName = requireId("app_name", req.appName);
      const query: SessionListQuery = {
        appName,
        userId: req.userId === undefined ? undefined : requireId("user_id", req.userId),
        agentId: req.agentId === undefined ? undefined : checkText("agent_id", req.agentId, limits.maxIdLength * 2),
        status: req.status === SessionStatus.UNSPECIFIED ? undefined : requireStatus(req.status),
        createTimeStartUs: timeUs("create_time_start", req.createTimeStart),
        createTimeEndUs: timeUs("create_time_end", req.createTimeEnd),
        forkedFromSessionId: req.forkedFromSessionId === undefined ? undefined : requireId("forked_from_session_id", req.forkedFromSessionId),
        order: orderOf(req.order),
        offset: nonNegative("offset", req.offset),
        limit: pageSize("page_size", req.pageSize),
      };
      const fingerprint = queryFingerprint([
        query.appName,
        query.userId,
        query.agentId,
        query.status,
        query.createTimeStartUs,
        query.createTimeEndUs,
        query.order,
        ...(query.forkedFromSessionId === undefined ? [] : [query.forkedFromSessionId]),
      ]);
      if (req.pageToken !== "") {
        query.after = decodeSessionToken(req.pageToken, fingerprint);
        query.offset = 0;
      }
      const views = await store.listSessions({ ...query, limit: query.limit + 1 });
      const page = views.slice(0, query.limit);
      const last = page.at(-1);
      const more = views.length > query.limit && last !== undefined;
      return {
        sessions: page.map((v) => sessionToProto(v)),
        nextPageToken: more ? encodeSessionToken(sessionCursor(last.session), fingerprint) : "",
      };
    },

    async deleteUserSessions(req) {
      const appName = requireId("app_name", req.appName);
      const userId = requireId("user_id", req.userId);
      const count = await store.deleteSessions({ appName, userId, purgeState: req.purgeState });
      onDeleted({ appName, userId });
      return { deletedCount: BigInt(count) };
    },

    async deleteAppSessions(req) {
      const appName = requireId("app_name", req.appName);
      const count = await store.deleteSessions({ appName, purgeState: req.purgeState });
      onDeleted({ appName });
      return { deletedCount: BigInt(count) };
    },

    async getUserState(req) {
      const { appState, userState } = await store.getSharedState(
        requireId("app_name", req.appName),
        requireId("user_id", req.userId),
      );
      return { state: sharedState(appState, userState) };
    },
  };
}

/** A session with events of its effective history, chosen as the raw read would choose among all events. */
async function effectiveSession(
  store: Store,
  key: SessionKey,
  numRecentEvents: number | undefined,
  afterTimeUs: number | undefined,
): Promise<{ view: SessionView; events: StoredEvent[] }> {
  const { view } = await store.getSession(key, { numRecentEvents: 0 });
  if (numRecentEvents === 0) return { view, events: [] };
  const ranges = await readEffectiveRanges(store, key, view.session.lastSequence);
  const chosen = numRecentEvents === undefined ? ranges : newestOf(ranges, numRecentEvents);
  const filter = afterTimeUs === undefined ? {} : { startTimeUs: afterTimeUs };
  return { view, events: await collectRangeEvents(store, key, chosen, filter, Number.POSITIVE_INFINITY) };
}

function requireStatus(status: SessionStatus): DomainStatus {
  const domain = statusFromProto(status);
  if (!domain) throw invalidArgument("status", `must be ACTIVE, COMPLETED or FAILED, not ${status}`);
  return domain;
}

function orderOf(order: SessionOrder): "asc" | "desc" {
  switch (order) {
    case SessionOrder.UNSPECIFIED:
    case SessionOrder.UPDATE_TIME_DESC:
      return "desc";
    case SessionOrder.UPDATE_TIME_ASC:
      return "asc";
    default:
      throw invalidArgument("order", `unknown value ${order}`);
  }
}
