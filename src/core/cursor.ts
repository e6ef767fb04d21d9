import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";
import type { SessionCursor } from "./types.js";

/**
 * Page tokens are opaque to clients: base64url JSON holding the keyset
 * position and a fingerprint of the query they belong to, so a token reused
 * with other filters is rejected instead of silently paging the wrong list.
 */

const TOKEN_VERSION = 1;

/** A short stable hash of the query fields a page token is bound to. */
export function queryFingerprint(fields: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(fields)).digest("base64url").slice(0, 12);
}

/** Encodes a ListSessions position. */
export function encodeSessionToken(cursor: SessionCursor, fingerprint: string): string {
  return encode({ v: TOKEN_VERSION, t: cursor.updateTimeUs, u: cursor.userId, i: cursor.id, f: fingerprint });
}

/** Decodes a ListSessions token, or throws INVALID_ARGUMENT naming page_token. */
export function decodeSessionToken(token: string, fingerprint: string): SessionCursor {
  const data = decode(token, fingerprint);
  if (typeof data.t !== "number" || !Number.isSafeInteger(data.t) || typeof data.u !== "string" || typeof data.i !== "string") {
    throw malformed();
  }
  return { updateTimeUs: data.t, userId: data.u, id: data.i };
}

/** Encodes a ListApps position: the last app name of the page. */
export function encodeAppToken(afterName: string, fingerprint: string): string {
  return encode({ v: TOKEN_VERSION, a: afterName, f: fingerprint });
}

/** Decodes a ListApps token, or throws INVALID_ARGUMENT naming page_token. */
export function decodeAppToken(token: string, fingerprint: string): string {
  const data = decode(token, fingerprint);
  if (typeof data.a !== "string") throw malformed();
  return data.a;
}

/** Encodes a ListEvents position: the last sequence of the page. */
export function encodeEventToken(afterSequence: number, fingerprint: string): string {
  return encode({ v: TOKEN_VERSION, s: afterSequence, f: fingerprint });
}

/** Decodes a ListEvents token, or throws INVALID_ARGUMENT naming page_token. */
export function decodeEventToken(token: string, fingerprint: string): number {
  const data = decode(token, fingerprint);
  if (typeof data.s !== "number" || !Number.isSafeInteger(data.s) || data.s < 0) throw malformed();
  return data.s;
}

function encode(data: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(data)).toString("base64url");
}

function decode(token: string, fingerprint: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw malformed();
  }
  if (typeof data !== "object" || data === null || (data as { v?: unknown }).v !== TOKEN_VERSION) throw malformed();
  if ((data as { f?: unknown }).f !== fingerprint) {
    throw invalidArgument("page_token", "was issued for a request with other parameters");
  }
  return data as Record<string, unknown>;
}

function malformed() {
  return invalidArgument("page_token", "is malformed; pass next_page_token from the previous response unchanged");
}
