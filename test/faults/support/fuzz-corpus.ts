import { gzipSync } from "node:zlib";
import { create, type DescMessage, type MessageInitShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import { SessionService } from "../../../gen/sessiond/v1/session_service_pb.js";
import { envelope } from "../../wire/raw-clients.js";
import type { RawCall, Wire } from "./fuzz-wire.js";
import {
  BINARY_TIMESTAMPS,
  CONNECT_TIMEOUTS,
  deepStructValue,
  GRPC_TIMEOUTS,
  HOSTILE_IDS,
  HOSTILE_TIMESTAMPS,
  HOSTILE_VALUES,
  lenField,
} from "./fuzz-inputs.js";
import type { Random } from "./random.js";

/** A session a fuzz request addressed. */
export interface SessionKey {
  appName: string;
  userId: string;
  sessionId: string;
}

/** One request of the fuzzer and what its answer may be. */
export interface FuzzCase {
  /** The corpus entry, or "mutant" for a random mutation of a valid request. */
  label: string;
  call: RawCall;
  /** True when the gRPC spec demands INTERNAL: a compressed message on a stream without grpc-encoding. */
  specInternal: boolean;
  /** The session a write addressed, when the request was well formed enough to know: read back afterwards. */
  written?: SessionKey;
}

type Method = keyof typeof SessionService.method;
const METHODS = Object.keys(SessionService.method) as Method[];
const WRITES = new Set<Method>(["createSession", "updateSession", "appendEvent", "appendEvents", "forkSession", "rewindSession"]);
const STREAMING = new Set<Method>(["getEvents"]);
// Connect GET is for unary methods without side effects.
const GETTABLE = METHODS.filter((m) => SessionService.method[m].idempotency === 1 && !STREAMING.has(m));
const WIRES: Wire[] = ["grpc", "grpc-web", "grpc-web-h1", "connect-proto", "connect-json", "connect-json-h1", "connect-get", "connect-get-h1"];

/** Apps the fuzzer writes to; the tracked sessions live elsewhere. */
export const FUZZ_APPS = ["fz-a", "fz-b"];
const IDS = ["s1", "s2", "😀".repeat(65), "👨‍👩‍👧‍👦", "ﷺ", "a b", "..", "%2e", "Ω".repeat(128)];
/** A valid request for `method`, in protobuf-es init form. */
function validInit(method: Method, random: Random): { init: Record<string, unknown>; key: SessionKey } {
  const key = { appName: random.pick(FUZZ_APPS), userId: random.pick(["u1", "u2", "😀"]), sessionId: random.pick(IDS) };
  const event = () => ({
    id: `e${random.int(50)}`,
    author: random.pick(["user", "model", "ツール"]),
    content: { parts: [{ text: random.pick(["hi", "é", "😀", ""]) }] },
    actions: { stateDelta: { [random.pick(["k", "app:k", "user:k", "temp:k"])]: random.int(100) } },
  });
  const inits: Record<Method, () => Record<string, unknown>> = {
    createSession: () => ({ ...key, state: { k: 1 }, metadata: { m: "x" } }),
    getSession: () => ({ ...key, numRecentEvents: random.int(5) }),
    updateSession: () => ({ ...key, status: random.int(3), metadata: { m: random.int(9) } }),
    deleteSession: () => ({ ...key, sessionId: "doomed" }),
    listSessions: () => ({ appName: key.appName, pageSize: random.int(20) }),
    appendEvent: () => ({ ...key, event: event() }),
    appendEvents: () => ({ ...key, events: Array.from({ length: 1 + random.int(3) }, event) }),
    getEvents: () => ({ ...key, limit: BigInt(random.int(10)) }),
    listEvents: () => ({ ...key, pageSize: random.int(10) }),
    deleteUserSessions: () => ({ appName: key.appName, userId: "doomed" }),
    deleteAppSessions: () => ({ appName: "fz-doomed" }),
    getUserState: () => ({ appName: key.appName, userId: key.userId }),
    listApps: () => ({ namePrefix: "fz", pageSize: random.int(5) }),
    forkSession: () => ({ ...key, sequence: BigInt(random.int(5)), newSessionId: `fork-${random.int(20)}` }),
    rewindSession: () => ({ ...key, target: { case: "targetSequence", value: BigInt(random.int(5)) }, eventId: `rw${random.int(50)}`, author: "user" }),
  };
  return { init: inits[method](), key };
}

function schemaOf(method: Method): DescMessage {
  return SessionService.method[method].input;
}

function encodeBinary(method: Method, init: Record<string, unknown>): Buffer {
  const schema = schemaOf(method);
  return Buffer.from(toBinary(schema, create(schema, init as MessageInitShape<typeof schema>)));
}

function encodeJson(method: Method, init: Record<string, unknown>): string {
  const schema = schemaOf(method);
  return toJsonString(schema, create(schema, init as MessageInitShape<typeof schema>));
}

interface Payload {
  binary?: Buffer;
  json?: string;
  /** Envelope flags (gRPC, gRPC-Web, Connect streaming). */
  flags?: number;
  headers?: Record<string, string>;
  /** The whole body, already framed. */
  body?: Buffer;
  http1?: boolean;
  get?: string;
}

/** Frames a payload as `wire` would send it (the payload may override any part). */
export function frame(wire: Wire, method: Method, payload: Payload): { call: RawCall; specInternal: boolean } {
  const path = `/sessiond.v1.SessionService/${SessionService.method[method].name}`;
  const streaming = STREAMING.has(method);
  const json = wire.startsWith("connect-json") || (wire.startsWith("connect-get") && payload.json !== undefined);
  const data = json ? Buffer.from(payload.json ?? "{}") : (payload.binary ?? Buffer.alloc(0));
  const flags = payload.flags ?? 0;
  const http1 = payload.http1 ?? wire.endsWith("-h1");
  let headers: Record<string, string>;
  let body: Buffer | undefined;
  let httpMethod: "POST" | "GET" = "POST";
  let get = "";
  if (wire === "grpc" || wire.startsWith("grpc-web")) {
    headers = wire === "grpc" ? { "content-type": "application/grpc+proto", te: "trailers" } : { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
    headers["grpc-timeout"] = "5S";
    body = envelope(data, flags);
  } else if (wire.startsWith("connect-get")) {
    httpMethod = "GET";
    get = payload.get ?? (json ? `?connect=v1&encoding=json&message=${encodeURIComponent(data.toString())}` : `?connect=v1&encoding=proto&base64=1&message=${data.toString("base64url")}`);
    headers = { "connect-timeout-ms": "5000" };
  } else {
    const codec = json ? "json" : "proto";
    headers = streaming ? { "content-type": `application/connect+${codec}` } : { "content-type": `application/${codec}` };
    headers["connect-protocol-version"] = "1";
    headers["connect-timeout-ms"] = "5000";
    body = streaming ? envelope(data, flags) : data;
  }
  Object.assign(headers, payload.headers);
  for (const [name, value] of Object.entries(headers)) if (value === "\0") delete headers[name];
  const encoding = headers["grpc-encoding"] ?? headers["connect-content-encoding"];
  const specInternal = (flags & 1) === 1 && (encoding === undefined || encoding === "identity");
  return { call: { wire, http1, path: path + get, method: httpMethod, headers, body: payload.body ?? body, deadlineMs: 5000 }, specInternal };
}

function wireFor(method: Method, random: Random): Wire {
  const wire = random.pick(WIRES);
  return wire.startsWith("connect-get") && !GETTABLE.includes(method) ? "connect-json" : wire;
}

/** Puts raw JSON text at `path` (dot-separated) inside a request's JSON. */
function withRawJson(json: string, path: string, raw: string): string {
  const marker = "\u0001RAW\u0001";
  const object = JSON.parse(json) as Record<string, unknown>;
  const parts = path.split(".");
  let at: Record<string, unknown> = object;
  for (const part of parts.slice(0, -1)) {
    if (/^\d+$/.test(part)) at = (at as unknown as unknown[])[Number(part)] as Record<string, unknown>;
    else at = (at[part] ??= {}) as Record<string, unknown>;
  }
  at[parts.at(-1)!] = marker;
  return JSON.stringify(object).replace(JSON.stringify(marker), raw);
}

const VALUE_SPOTS: [Method, string][] = [
  ["createSession", "state"],
  ["createSession", "metadata"],
  ["updateSession", "metadata"],
  ["appendEvent", "event.content"],
  ["appendEvent", "event.actions.stateDelta"],
  ["appendEvent", "event.actions.custom"],
  ["appendEvent", "event.metadata"],
  ["appendEvents", "events.0.content"],
];
const TIME_SPOTS: [Method, string][] = [
  ["appendEvent", "event.timestamp"],
  ["getSession", "afterTime"],
  ["listSessions", "createTimeStart"],
  ["listEvents", "filter.startTime"],
  ["getEvents", "filter.endTime"],
];
const ID_SPOTS: [Method, string][] = [
  ["createSession", "sessionId"],
  ["createSession", "appName"],
  ["getSession", "userId"],
  ["appendEvent", "event.id"],
  ["appendEvent", "event.author"],
  ["listSessions", "appName"],
];

/**
 * The fixed corpus: every hostile input of the list, each over a few wires.
 * Deterministic for a seed; oversized bodies are included once per wire kind.
 */
export function corpus(random: Random): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const add = (label: string, wire: Wire, method: Method, payload: Payload, written?: SessionKey) => {
    const { call, specInternal } = frame(wire, method, payload);
    cases.push({ label, call, specInternal, written: written && WRITES.has(method) ? written : undefined });
  };
  const jsonWires = (): Wire[] => [random.pick(["connect-json", "connect-json-h1"] as Wire[])];
  for (const [name, raw] of Object.entries(HOSTILE_VALUES)) {
    for (const [method, spot] of VALUE_SPOTS) {
      const { init, key } = validInit(method, random);
      for (const wire of jsonWires()) add(`value ${name}`, wire, method, { json: withRawJson(encodeJson(method, init), spot, raw) }, key);
    }
  }
  for (const levels of [30, 31, 60, 5000]) {
    // Struct nesting in binary: connect-es decodes it recursively.
    const { init, key } = validInit("createSession", random);
    const base = encodeBinary("createSession", { ...init, state: undefined });
    const state = lenField(5, lenField(1, Buffer.concat([lenField(1, Buffer.from("deep")), lenField(2, deepStructValue(levels))])));
    for (const wire of ["grpc", "connect-proto", "grpc-web-h1"] as Wire[]) add(`binary deep-${levels}`, wire, "createSession", { binary: Buffer.concat([base, state]) }, key);
  }
  for (const raw of HOSTILE_TIMESTAMPS) {
    for (const [method, spot] of TIME_SPOTS) {
      const { init, key } = validInit(method, random);
      add(`timestamp ${raw}`, random.pick(["connect-json", "connect-json-h1"] as Wire[]), method, { json: withRawJson(encodeJson(method, init), spot, raw) }, key);
    }
  }
  for (const [seconds, nanos] of BINARY_TIMESTAMPS) {
    const { init, key } = validInit("appendEvent", random);
    const event = { ...(init.event as object), timestamp: { seconds, nanos } };
    for (const wire of ["grpc", "connect-proto"] as Wire[]) add(`binary timestamp ${seconds}/${nanos}`, wire, "appendEvent", { binary: encodeBinary("appendEvent", { ...init, event }) }, key);
  }
  for (const id of HOSTILE_IDS) {
    for (const [method, spot] of ID_SPOTS) {
      const { init, key } = validInit(method, random);
      add(`id ${JSON.stringify(id).slice(0, 20)}`, random.pick(["connect-json", "connect-json-h1"] as Wire[]), method, { json: withRawJson(encodeJson(method, init), spot, JSON.stringify(id)) }, key);
      add(`binary id ${JSON.stringify(id).slice(0, 20)}`, random.pick(["grpc", "connect-proto", "grpc-web"] as Wire[]), method, { binary: encodeBinary(method, setPath(init, spot, id)) }, key);
    }
  }
  // Bytes that are not UTF-8 where a string goes.
  for (const bytes of [[0xff, 0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
    const bad = Buffer.concat([lenField(1, Buffer.from(bytes)), lenField(2, Buffer.from("u")), lenField(3, Buffer.from("s"))]);
    for (const wire of ["grpc", "connect-proto", "grpc-web-h1"] as Wire[]) add(`invalid utf-8 ${bytes}`, wire, "createSession", { binary: bad });
  }
  const garbage: Record<string, Buffer> = {
    truncated: Buffer.from([0x0a, 0x7f, 0x61]),
    "bad wire type": Buffer.from([0x0f, 0x01]),
    "varint overflow": Buffer.from([0x20, ...Array(11).fill(0xff), 0x01]),
    "huge length": Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    "group tag": Buffer.from([0x0b, 0x0c]),
    "field zero": Buffer.from([0x02, 0x00]),
    random: Buffer.from(Array.from({ length: 64 }, () => random.int(256))),
  };
  for (const [name, bytes] of Object.entries(garbage)) {
    for (const method of ["createSession", "appendEvents", "getEvents", "listSessions"] as Method[]) {
      for (const wire of ["grpc", "grpc-web", "connect-proto", "connect-get"] as Wire[]) {
        if (wire === "connect-get" && !GETTABLE.includes(method)) continue;
        add(`protobuf ${name}`, wire, method, { binary: bytes });
      }
    }
  }
  for (const text of ["{", '{"appName":', "[]", "null", '"x"', "{}x", '{"appName":1}', '{"status":99}', '{"status":"NOPE"}', '{"pageSize":-1}', '{"pageSize":"1e9"}', '{"numRecentEvents":4294967296}', '{"limit":"9223372036854775808"}', '{"unknownField":1}', "\ufeff{}", "{\"a\":\"\\x\"}"]) {
    for (const method of ["createSession", "listSessions", "getSession", "getEvents"] as Method[]) add(`json ${text}`, random.pick(["connect-json", "connect-json-h1", "connect-get"] as Wire[]).startsWith("connect-get") && GETTABLE.includes(method) ? "connect-get" : "connect-json", method, { json: text });
  }
  for (const message of ["!!!", "abc", "a=b", "%", "A".repeat(5), "____", "=="]) {
    for (const method of GETTABLE) add(`base64 ${message}`, random.pick(["connect-get", "connect-get-h1"] as Wire[]), method, { get: `?connect=v1&encoding=proto&base64=1&message=${encodeURIComponent(message)}` });
  }
  for (const query of ["", "?connect=v1", "?encoding=proto&message=", "?connect=v1&encoding=xml&message=x", "?connect=v2&encoding=json&message=%7B%7D", "?connect=v1&encoding=json&message=%7B&compression=br"]) {
    add(`get query ${query}`, "connect-get", "listApps", { get: query });
  }
  add("get of a streaming method", "connect-get", "listApps", { get: "" });
  cases.at(-1)!.call.path = `/sessiond.v1.SessionService/GetEvents?connect=v1&encoding=json&message=%7B%7D`;
  add("get of a method with side effects", "connect-get", "listApps", { get: "" });
  cases.at(-1)!.call.path = `/sessiond.v1.SessionService/CreateSession?connect=v1&encoding=json&message=%7B%7D`;
  const valid = (method: Method) => encodeBinary(method, validInit(method, random).init);
  const compressions: [string, Payload][] = [
    ["gzip", { flags: 1, headers: { "grpc-encoding": "gzip" } }],
    ["gzip garbage", { flags: 1, headers: { "grpc-encoding": "gzip" }, binary: Buffer.from("not gzip") }],
    ["br", { flags: 1, headers: { "grpc-encoding": "br" } }],
    ["unknown", { flags: 1, headers: { "grpc-encoding": "x-unknown" } }],
    ["flag without encoding", { flags: 1 }],
    ["identity with flag", { flags: 1, headers: { "grpc-encoding": "identity" } }],
    ["reserved flags", { flags: 0x7e }],
    ["accept-encoding garbage", { headers: { "grpc-accept-encoding": "\u00ff, ,,br;q=x" } }],
  ];
  for (const [name, payload] of compressions) {
    for (const wire of ["grpc", "grpc-web", "grpc-web-h1"] as Wire[]) {
      const binary = name === "gzip" ? gzipSync(valid("listSessions")) : (payload.binary ?? valid("listSessions"));
      add(`grpc compression ${name}`, wire, "listSessions", { ...payload, binary });
    }
  }
  for (const [name, headers, body] of [
    ["gzip garbage", { "content-encoding": "gzip" }, Buffer.from("not gzip")],
    ["br", { "content-encoding": "br" }, undefined],
    ["unknown", { "content-encoding": "x-unknown" }, undefined],
    ["gzip ok", { "content-encoding": "gzip" }, gzipSync(valid("listSessions"))],
  ] as [string, Record<string, string>, Buffer | undefined][]) {
    add(`connect compression ${name}`, "connect-proto", "listSessions", { headers, binary: body ?? valid("listSessions") });
    add(`connect stream compression ${name}`, "connect-proto", "getEvents", { headers: { "connect-content-encoding": headers["content-encoding"]! }, flags: 1, binary: body ?? valid("getEvents") });
  }
  for (const timeout of GRPC_TIMEOUTS) {
    for (const wire of ["grpc", "grpc-web-h1"] as Wire[]) add(`grpc-timeout ${timeout}`, wire, "listSessions", { headers: { "grpc-timeout": timeout }, binary: valid("listSessions") });
  }
  for (const timeout of CONNECT_TIMEOUTS) add(`connect-timeout-ms ${timeout}`, "connect-json", "getSession", { headers: { "connect-timeout-ms": timeout }, json: encodeJson("getSession", validInit("getSession", random).init) });
  for (const [name, headers] of [
    ["no content-type", { "content-type": "\0" }],
    ["text/plain", { "content-type": "text/plain" }],
    ["grpc+json", { "content-type": "application/grpc+json" }],
    ["grpc+xml", { "content-type": "application/grpc+xml" }],
    ["no te", { te: "\0" }],
  ] as [string, Record<string, string>][]) {
    add(`grpc header ${name}`, "grpc", "listSessions", { headers, binary: valid("listSessions") });
  }
  add("grpc over http/1.1", "grpc", "listSessions", { http1: true, binary: valid("listSessions") });
  add("connect protocol version 2", "connect-json", "listApps", { headers: { "connect-protocol-version": "2" }, json: "{}" });
  add("unknown method", "grpc", "listApps", { binary: Buffer.alloc(0) });
  cases.at(-1)!.call.path = "/sessiond.v1.SessionService/NoSuchMethod";
  add("unknown service", "connect-json", "listApps", { json: "{}" });
  cases.at(-1)!.call.path = "/no.Such/Method";
  // Envelopes that lie about their length, or are followed by more than a unary call takes.
  const small = valid("listSessions");
  for (const wire of ["grpc", "grpc-web-h1"] as Wire[]) {
    add("envelope claims more than sent", wire, "listSessions", { body: Buffer.concat([Buffer.from([0, 0, 0, 1, 0]), small]) });
    add("envelope header cut short", wire, "listSessions", { body: Buffer.from([0, 0, 0]) });
    add("two messages to a unary method", wire, "listSessions", { body: Buffer.concat([envelope(small), envelope(small)]) });
    add("empty body", wire, "listSessions", { body: Buffer.alloc(0) });
  }
  // Oversized: more than the 16 MiB message limit, on each protocol family once.
  const big = Buffer.alloc(17 * 1024 * 1024 + 7, 0x61);
  add("oversized grpc", "grpc", "createSession", { binary: Buffer.concat([lenField(1, Buffer.from("fz-a")), lenField(4, big)]) });
  add("oversized grpc-web", "grpc-web-h1", "createSession", { binary: Buffer.concat([lenField(1, Buffer.from("fz-a")), lenField(4, big)]) });
  add("oversized connect json", "connect-json", "createSession", { json: `{"appName":"fz-a","userId":"u","agentId":"${big.toString()}"}` });
  add("oversized connect json h1", "connect-json-h1", "createSession", { json: `{"appName":"fz-a","userId":"u","agentId":"${big.toString()}"}` });
  add("oversized envelope header", "grpc", "createSession", { body: Buffer.from([0, 0xff, 0xff, 0xff, 0xff]) });
  return cases;
}

function setPath(init: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(init);
  const parts = path.split(".");
  let at = copy as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[parts.at(-1)!] = value;
  return copy;
}

/** A random mutation of a valid request: bytes flipped, cut, repeated or spliced in, or JSON text bent. */
export function mutant(random: Random): FuzzCase {
  const method = random.pick(METHODS);
  const wire = wireFor(method, random);
  const { init, key } = validInit(method, random);
  const json = wire.startsWith("connect-json") || (wire.startsWith("connect-get") && random.int(2) === 0);
  const original = json ? Buffer.from(encodeJson(method, init)) : encodeBinary(method, init);
  const mutations = random.int(4);
  let bytes = original;
  for (let i = 0; i < mutations; i++) bytes = mutate(bytes, random, json);
  const payload: Payload = json ? { json: bytes.toString("utf8") } : { binary: bytes };
  const { call, specInternal } = frame(wire, method, payload);
  // Untouched requests (no mutation) are valid: their writes are read back.
  return { label: mutations === 0 ? "valid" : "mutant", call, specInternal, written: mutations === 0 && WRITES.has(method) ? key : undefined };
}

const JSON_BITS = ['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "\\ud800", "1e400", "-", "null", "__proto__", "😀", "\u0000", " "];

function mutate(bytes: Buffer, random: Random, json: boolean): Buffer {
  const at = random.int(bytes.length + 1);
  switch (random.int(json ? 6 : 5)) {
    case 0: {
      // Flip a bit.
      if (bytes.length === 0) return Buffer.from([random.int(256)]);
      const copy = Buffer.from(bytes);
      copy[Math.min(at, copy.length - 1)]! ^= 1 << random.int(8);
      return copy;
    }
    case 1:
      return bytes.subarray(0, at);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + random.int(8) }, () => random.int(256))), bytes.subarray(at)]);
    case 3:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(random.int(bytes.length + 1))]);
    case 4:
      return Buffer.concat([bytes, bytes.subarray(0, at)]);
    default:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(random.pick(JSON_BITS)), bytes.subarray(at)]);
  }
}
