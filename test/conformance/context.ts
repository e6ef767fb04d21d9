import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Store } from "../../src/stores/store.js";
import { type TestProtocol, uniqueName } from "../support/server.js";

/** What every conformance test gets: a client of a real server over the store under test. */
export interface SuiteContext {
  readonly client: Client<typeof SessionService>;
  /** The store itself, for the operations no RPC exposes (scan, restore). */
  readonly store: Store;
  /** The client's wire protocol, when not gRPC. */
  readonly protocol?: TestProtocol;
}

/** A session key plus helpers, in an app no other test uses. */
export interface Fixture {
  appName: string;
  userId: string;
  sessionId: string;
  key: { appName: string; userId: string; sessionId: string };
}

/** Creates a session in a fresh app and returns its key. */
export async function newSession(ctx: SuiteContext, init: { state?: JsonObject; agentId?: string } = {}): Promise<Fixture> {
  const appName = uniqueName("app");
  const userId = "user-1";
  const res = await ctx.client.createSession({ appName, userId, sessionId: uniqueName("s"), ...init });
  const sessionId = res.session!.id;
  return { appName, userId, sessionId, key: { appName, userId, sessionId } };
}

/** The shape of an event in a request. */
export type EventInit = MessageInitShape<typeof EventSchema>;

/** An event init with a text message. */
export function textEvent(text: string, extra: EventInit = {}): EventInit {
  return { author: "user", content: { role: "user", parts: [{ text }] }, ...extra };
}

/** Appends `count` events one call each and returns their sequences. */
export async function appendMany(ctx: SuiteContext, f: Fixture, count: number, make = (i: number) => textEvent(`m${i}`)) {
  const events = Array.from({ length: count }, (_, i) => make(i));
  const sequences: bigint[] = [];
  for (let i = 0; i < events.length; i += 500) {
    const res = await ctx.client.appendEvents({ ...f.key, events: events.slice(i, i + 500) });
    sequences.push(...res.events.map((e) => e.sequence));
  }
  return sequences;
}

/** A Timestamp at a millisecond time. */
export const at = (ms: number) => timestampFromMs(ms);
