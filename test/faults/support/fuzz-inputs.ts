/**
 * The hostile inputs of the fuzzer's corpus: values, timestamps, ids and
 * timeouts that a server must refuse or carry intact, and protobuf bytes no
 * encoder would write.
 */
/** Ids every protocol must refuse (INVALID_ARGUMENT), or carry as they are. */
export const HOSTILE_IDS = ["", "😀".repeat(129), "x".repeat(129), "\u0000", "\ud800", "a\udc00b", " ", "\n", "\u202e", "__proto__", "constructor"];

/** JSON values (as text) that are hostile wherever a Struct or Value goes. */
export const HOSTILE_VALUES: Record<string, string> = {
  "1e400": '{"big":1e400}',
  "-1e400": '{"v":[-1e400]}',
  "proto-admin": '{"__proto__":{"isAdmin":true},"k":1}',
  "proto-scoped": '{"__proto__":{"temp:t":1,"app:z":2}}',
  "proto-prefixed": '{"user:__proto__":{"x":1},"app:__proto__":{"y":2},"temp:__proto__":3,"constructor":{"prototype":{"p":1}}}',
  "lone-surrogate": '{"t":"a\\ud800b","\\udc00":1}',
  "nul": '{"t":"a\\u0000b","\\u0000":1}',
  "deep-30": deepJson(30),
  "deep-31": deepJson(31),
  "deep-60": deepJson(60),
  "deep-1000": deepJson(1000),
  "deep-array-5000": `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`,
  "duplicate-keys": '{"a":1,"a":{"b":2}}',
  "huge-int": '{"n":123456789012345678901234567890}',
  "not-an-object": "[1,2,3]",
  "string": '"text"',
  "null": "null",
  "wide": `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(",")}}`,
};

export const HOSTILE_TIMESTAMPS = [
  '"2300-01-01T00:00:00Z"',
  '"9999-12-31T23:59:59.999999999Z"',
  '"0001-01-01T00:00:00Z"',
  '"1699-12-31T23:59:59Z"',
  '"10000-01-01T00:00:00Z"',
  '"2024-02-30T00:00:00Z"',
  '"2024-01-01T00:00:00+25:00"',
  '"2024-01-01T00:00:00.0000000001Z"',
  '"garbage"',
  "1700000000",
  '{"seconds":1}',
];
/** Timestamps only binary can carry: seconds and nanos out of every range. */
export const BINARY_TIMESTAMPS: [bigint, number][] = [
  [2n ** 62n, 0],
  [-(2n ** 62n), 0],
  [253402300800n, 0],
  [10413792000n, 0],
  [-62135596801n, 0],
  [0n, -1],
  [0n, 1_000_000_000],
  [9223372036854775807n, 999_999_999],
];

export const GRPC_TIMEOUTS = ["99999999H", "100000000H", "1n", "0S", "-1S", "1X", "", "1.5S", "abc", "0000000001S", "99999999S"];
export const CONNECT_TIMEOUTS = ["-1", "abc", "99999999999", "0", "1e3", "9999999999"];

function deepJson(levels: number): string {
  return `${'{"d":'.repeat(levels - 1)}{"leaf":1}${"}".repeat(levels - 1)}`;
}

const tag = (field: number, wire: number) => Buffer.from([(field << 3) | wire]);
function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}
export const lenField = (field: number, data: Buffer) => Buffer.concat([tag(field, 2), varint(data.length), data]);

/** A google.protobuf.Value nested `levels` Structs deep, built from the inside so no encoder recursion is needed. */
export function deepStructValue(levels: number): Buffer {
  let value = Buffer.from([0x08, 0x00]); // null_value
  for (let i = 0; i < levels; i++) {
    const entry = Buffer.concat([lenField(1, Buffer.from("k")), lenField(2, value)]);
    value = lenField(5, lenField(1, entry));
  }
  return value;
}

