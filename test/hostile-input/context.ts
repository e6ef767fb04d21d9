import { expect } from "vitest";
import { uniqueName } from "../support/server.js";
import type { StoreServer } from "../support/store-server.js";

/** A real server over the store under test, a gRPC client and its URL for raw Connect JSON. */
export type HostileContext = StoreServer;

/** The outcome of a Connect JSON call sent as raw text. */
export interface RawReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * POSTs `body` verbatim as Connect JSON. Raw text, because the values under
 * test (1e400, lone surrogates, `__proto__` keys) cannot pass through a
 * JavaScript object literal or a client's own encoder unchanged.
 */
export async function rawCall(ctx: HostileContext, method: string, body: string): Promise<RawReply> {
  const response = await fetch(`${ctx.url}/sessiond.v1.SessionService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Asserts that a raw call failed with invalid_argument and a message naming `field`. */
export function expectInvalid(reply: RawReply, field: string): void {
  expect(reply.body.code, JSON.stringify(reply.body)).toBe("invalid_argument");
  expect(reply.status).toBe(400);
  expect(String(reply.body.message)).toContain(field);
}

/** A fresh app with one session, created over gRPC. */
export async function freshSession(ctx: HostileContext) {
  const appName = uniqueName("hostile");
  const userId = "u";
  const { session } = await ctx.client.createSession({ appName, userId });
  return { appName, userId, sessionId: session!.id };
}

/** The JSON text of a session key, to splice into raw request bodies. */
export const keyJson = (key: { appName: string; userId: string; sessionId: string }) =>
  `"appName":${JSON.stringify(key.appName)},"userId":${JSON.stringify(key.userId)},"sessionId":${JSON.stringify(key.sessionId)}`;
