import { describe, expect, it } from "vitest";
import { checkJson, textProblem } from "../../src/core/json-check.js";
import { limits } from "../../src/core/limits.js";
import type { JsonValue } from "../../src/core/types.js";

const deep = (depth: number): JsonValue => (depth === 1 ? {} : { d: deep(depth - 1) });

describe("JSON values sessiond stores", () => {
  it("names the path to the offending value", () => {
    expect(() => checkJson("content", { parts: [{ text: "ok" }, { n: Infinity }] })).toThrow("content.parts[1].n: is Infinity");
    expect(() => checkJson("state", { "app:x": [Number.NaN] })).toThrow('state["app:x"][0]: is NaN');
    expect(() => checkJson("m", { ["k".repeat(100)]: -Infinity })).toThrow(`m["${"k".repeat(40)}…"]: is -Infinity`);
    expect(() => checkJson("m", { "\ud800": 1 })).toThrow('m["\\ud800"]: key holds a lone UTF-16 surrogate');
    expect(() => checkJson("m", { a: "x\u0000" })).toThrow("m.a: holds U+0000");
  });

  it(`allows exactly ${limits.maxJsonDepth} levels of objects and arrays`, () => {
    expect(checkJson("c", deep(limits.maxJsonDepth))).toEqual(deep(limits.maxJsonDepth));
    expect(() => checkJson("c", deep(limits.maxJsonDepth + 1))).toThrow(`nests objects and arrays more than ${limits.maxJsonDepth} deep`);
    expect(() => checkJson("c", { a: [[[]]] } as JsonValue)).not.toThrow();
  });

  it("accepts every finite number and well-formed string", () => {
    expect(() => checkJson("v", [-0, Number.MAX_VALUE, Number.MIN_VALUE, "😀", "\uFFFF", "", null, true])).not.toThrow();
    expect(textProblem("a😀b")).toBeUndefined();
    expect(textProblem("\udc00a")).toContain("lone UTF-16 surrogate");
  });
});
