import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { textProblem } from "../../src/core/json-check.js";
import type { StoredEvent } from "../../src/core/types.js";

/** Random JSON values and stored events for the encoder and decoder tests: every edge of the Struct spec the server keeps. */

/** A deterministic pseudo-random source, so failures reproduce. */
export function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export const STRINGS = ["", "a", "héllo wörld", "日本語テキスト", "emoji 😀🎉", "x".repeat(127), "y".repeat(128), "z".repeat(20_000), "é".repeat(100), "ü".repeat(9_000), "\u0000\n\t\"", "lone \ud800 surrogate", "0", "__proto__", 'say "hi"', "back\\slash", "tab\tonly"];
export const NUMBERS = [0, -0, 1, -1, 0.5, -2.25, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 2 ** 53 + 2, 1.7976931348623157e308];

/** The strings a server accepts: no U+0000, no lone surrogate. */
export const STORABLE = STRINGS.filter((s) => textProblem(s) === undefined);

export function jsonValue(next: () => number, depth: number, strings = STRINGS): JsonValue {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const kind = Math.floor(next() * (depth > 0 ? 7 : 4));
  switch (kind) {
    case 0:
      return pick(strings);
    case 1:
      return pick(NUMBERS);
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
    case 5:
      return jsonObject(next, depth - 1, strings);
    default:
      return Array.from({ length: Math.floor(next() * 4) }, () => jsonValue(next, depth - 1, strings));
  }
}

export function jsonObject(next: () => number, depth: number, strings = STRINGS): JsonObject {
  const object: JsonObject = {};
  const keys = ["role", "parts", "text", "", "ключ", "2", "10", "nested", "list", "k😀"];
  for (let i = Math.floor(next() * 5); i > 0; i--) object[keys[Math.floor(next() * keys.length)]!] = jsonValue(next, depth, strings);
  return object;
}

export function storedEvent(next: () => number, i: number, strings = STRINGS): StoredEvent {
  const maybe = <T>(value: T) => (next() < 0.5 ? value : null);
  const text = (fallback: string) => (next() < 0.5 ? strings[Math.floor(next() * strings.length)]! : fallback);
  return {
    id: text(`e-${i}`),
    sequence: Math.floor(next() * 3) === 0 ? 0 : Math.floor(next() * 2 ** 40),
    invocationId: text(""),
    agentId: text(""),
    author: text("agent"),
    branch: text(""),
    // Before and after the epoch, with and without microseconds.
    timestampUs: [0, 1_700_000_000_123_456, -86_400_000_001, 1_000_000, 999][Math.floor(next() * 5)]!,
    content: maybe(jsonObject(next, 4, strings)),
    actions: maybe({
      ...(next() < 0.5 ? { stateDelta: jsonObject(next, 3, strings) } : {}),
      ...(next() < 0.5 ? { artifactDelta: { "a.txt": 0, "b.png": 7, "日本": 2 ** 40, "": 1 } } : {}),
      ...(next() < 0.5 ? { transferToAgent: text("other") } : {}),
      ...(next() < 0.5 ? { escalate: next() < 0.5 } : {}),
      ...(next() < 0.5 ? { skipSummarization: next() < 0.5 } : {}),
      ...(next() < 0.5 ? { custom: jsonObject(next, 3, strings) } : {}),
      ...(next() < 0.3
        ? { rewind: { targetSequence: Math.floor(next() * 2 ** 40), lastRewoundSequence: Math.floor(next() * 3), ...(next() < 0.5 ? { beforeInvocationId: text("inv") } : {}) } }
        : {}),
    }),
    metadata: maybe(next() < 0.2 ? {} : jsonObject(next, 3, strings)),
    turnComplete: next() < 0.5,
    errorCode: text(""),
    errorMessage: text(""),
    longRunningToolIds: next() < 0.5 ? [] : ["t1", "", "ツール"],
    interrupted: next() < 0.5,
  };
}
