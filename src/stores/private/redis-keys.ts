import type { SessionScriptKeys } from "./redis-scripts.js";
import { invalidArgument } from "../../core/errors.js";
import type { SessionKey } from "../../core/types.js";

/**
 * Key layout of the Redis store. Every key of one session and the state of
 * its user share the hash tag `{<prefix>:u:<app>:<user>}`, so one Lua script
 * can change them atomically even in Redis Cluster. App-wide keys share the
 * tag `{<prefix>:a:<app>}`, and the scan index lives under `{<prefix>}`.
 * App names and user ids are percent-encoded inside tags, so braces, colons
 * and spaces in them can neither end a tag early nor make two tags equal.
 */

const PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Default key prefix. */
export const DEFAULT_PREFIX = "sessiond";

/** Checks a key prefix: 1-64 letters, digits, `_`, `.` or `-` (so no braces, colons or whitespace). */
export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument(
      "store: prefix",
      "must be 1-64 letters, digits, '_', '.' or '-' (no '{', '}', ':' or whitespace)",
    );
  }
  return prefix;
}

/** Percent-encoding that leaves no `{`, `}`, `:` or whitespace. */
export function encodePart(part: string): string {
  return encodeURIComponent(part);
}

/** Separator inside index members; ids never hold control characters. */
export const SEP = "\u0000";

/** Keys of one user of an app, all in one slot. */
export interface UserKeys {
  /** The user's shared (`user:`) state: hash of key to JSON text. */
  userState: string;
  /** The user's sessions: sorted set of session id scored by update time. */
  sessions: string;
}

/** Keys of one session, all in the slot of its user. */
export interface SessionKeys extends UserKeys {
  /** The record: hash with agent, status, meta, ct, ut, last. */
  record: string;
  /** Session-scoped state: hash of key to JSON text. */
  state: string;
  /** Events: hash of sequence to event JSON. */
  events: string;
  /** Event id to "sequence:timestamp". */
  ids: string;
  /** App-state deltas not yet applied to the app's slot: hash of sequence to JSON. */
  pending: string;
  /** Sharded pub/sub channel announcing appends. */
  channel: string;
}

/** App-wide keys, in the app's slot. */
export interface AppKeys {
  /** The app's shared (`app:`) state: hash of key to JSON text. */
  appState: string;
  /** The app's sessions: sorted set of `user\0id` scored by update time. */
  sessions: string;
  /** Users of the app (for purges). */
  users: string;
  /** Per session incarnation, the highest sequence whose app delta is applied. */
  applied: string;
}

/** Builds the keys for one prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {
    checkPrefix(prefix);
  }

  /** Hash tag shared by a user's sessions and the user's state. */
  userTag(appName: string, userId: string): string {
    return `{${this.prefix}:u:${encodePart(appName)}:${encodePart(userId)}}`;
  }

  /** Hash tag of an app's shared keys. */
  appTag(appName: string): string {
    return `{${this.prefix}:a:${encodePart(appName)}}`;
  }

  user(appName: string, userId: string): UserKeys {
    const tag = this.userTag(appName, userId);
    return { userState: `${tag}:user`, sessions: `${tag}:sessions` };
  }

  session(key: SessionKey): SessionKeys {
    const tag = this.userTag(key.appName, key.userId);
    const id = encodePart(key.sessionId);
    return {
      record: `${tag}:s:${id}`,
      state: `${tag}:st:${id}`,
      events: `${tag}:ev:${id}`,
      ids: `${tag}:id:${id}`,
      pending: `${tag}:pa:${id}`,
      userState: `${tag}:user`,
      sessions: `${tag}:sessions`,
      channel: `${tag}:appended:${id}`,
    };
  }

  app(appName: string): AppKeys {
    const tag = this.appTag(appName);
    return { appState: `${tag}:app`, sessions: `${tag}:sessions`, users: `${tag}:users`, applied: `${tag}:applied` };
  }

  /** Every session of the prefix: sorted set (all scores 0) of `app\0user\0id`, in byte order. */
  get scanIndex(): string {
    return `{${this.prefix}}:sessions`;
  }

  /** Schema version of the layout. */
  get version(): string {
    return `{${this.prefix}}:version`;
  }

  /** SCAN pattern matching every key of the prefix. */
  get pattern(): string {
    return `{${this.prefix}[:}]*`;
  }
}

/** Session keys in the order the Lua scripts expect them as KEYS. */
export function sessionKeyList(k: SessionKeys): SessionScriptKeys {
  return [k.record, k.state, k.events, k.ids, k.pending, k.userState, k.sessions];
}

/** Member of an app index: `user\0id`. */
export function appMember(userId: string, sessionId: string): string {
  return userId + SEP + sessionId;
}

/** Member of the scan index: `app\0user\0id`. */
export function scanMember(key: SessionKey): string {
  return key.appName + SEP + key.userId + SEP + key.sessionId;
}

/** Field of the applied-marker hash: one per session incarnation (its create time). */
export function appliedField(key: SessionKey, createTimeUs: string): string {
  return key.userId + SEP + key.sessionId + SEP + createTimeUs;
}

/** Parses `0`, `3600`, `3600s`, `30m`, `12h` or `7d` into seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) throw invalidArgument("store: ttl", `must be 0 or a duration like 7d, 12h, 30m or 3600s, not ${JSON.stringify(text)}`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
