import { describe, expect, it } from "vitest";
import { decodeEventToken, decodeSessionToken, encodeEventToken, encodeSessionToken, queryFingerprint } from "../../src/core/cursor.js";
import { SessiondError } from "../../src/core/errors.js";

describe("page tokens", () => {
  const fp = queryFingerprint(["app", undefined, "desc"]);

  it("round-trips positions bound to the query they were issued for", () => {
    const cursor = { updateTimeUs: 1_700_000_000_123_456, userId: "ü/1", id: "s:2" };
    expect(decodeSessionToken(encodeSessionToken(cursor, fp), fp)).toEqual(cursor);
    expect(decodeEventToken(encodeEventToken(42, fp), fp)).toBe(42);
    expect(() => decodeEventToken(encodeEventToken(42, fp), queryFingerprint(["other"]))).toThrow(/other parameters/);
  });

  it("rejects garbage, other versions and wrong shapes as INVALID_ARGUMENT on page_token", () => {
    for (const token of ["", "!!!", Buffer.from('{"v":2,"s":1}').toString("base64url"), encodeEventToken(-1, fp), encodeSessionToken({ updateTimeUs: 1.5, userId: "u", id: "i" }, fp)]) {
      const error = (() => {
        try {
          decodeSessionToken(token, fp);
          decodeEventToken(token, fp);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SessiondError);
      expect((error as SessiondError).kind).toBe("invalid_argument");
      expect((error as SessiondError).message).toContain("page_token");
    }
  });
});
