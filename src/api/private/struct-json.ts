import { limits } from "../../core/limits.js";
import { WireReader } from "./wire-reader.js";

/**
 * The encoding of a google.protobuf.Struct straight to the JSON text the
 * stores write, in one pass over the wire bytes and without building the
 * object: the text is what `JSON.stringify` writes for the JsonObject
 * protobuf-es decodes from the same bytes.
 *
 * Only the common case is taken; for any other the result is undefined and
 * the caller decodes the message generically (with the same result and the
 * same errors as before):
 * - the bytes are in the form protobuf-es writes: map entries holding key
 *   then value, each Value one field, minimal varints, nothing unknown,
 *   so they can be stored as the event's encoding verbatim;
 * - the value keeps checkJson's rules (finite numbers, at most
 *   limits.maxJsonDepth levels, well-formed text without U+0000);
 * - every object's keys come out in wire order: none repeats, none is an
 *   array index (which JavaScript objects list first).
 */
export function structJsonText(r: WireReader, end: number): string | undefined {
  return struct(r, end, 1);
}

// Tags of the fields read here: (field number << 3) | wire type.
const ENTRY = 0x0a; // Struct.fields, ListValue.values: length-delimited
const ENTRY_KEY = 0x0a;
const ENTRY_VALUE = 0x12;
const NULL_VALUE = 0x08;
const NUMBER_VALUE = 0x11;
const STRING_VALUE = 0x1a;
const BOOL_VALUE = 0x20;
const STRUCT_VALUE = 0x2a;
const LIST_VALUE = 0x32;

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** A Struct's fields up to `end`, as a JSON object at nesting level `depth`. */
function struct(r: WireReader, end: number, depth: number): string | undefined {
  if (depth > limits.maxJsonDepth) return undefined;
  let text = "{";
  let keys: string[] | Set<string> | undefined;
  while (r.pos < end) {
    const entryEnd = r.field(ENTRY, end);
    const keyEnd = entryEnd < 0 ? -1 : r.field(ENTRY_KEY, entryEnd);
    if (keyEnd < 0) return undefined;
    const name = r.text(keyEnd);
    if (name === undefined || name.includes("\u0000")) return undefined;
    const first = name.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39 && ARRAY_INDEX.test(name) && Number(name) < 0xffffffff) return undefined;
    if (keys === undefined) keys = [name];
    else if (Array.isArray(keys)) {
      if (keys.includes(name)) return undefined;
      keys.push(name);
      if (keys.length > 8) keys = new Set(keys);
    } else {
      if (keys.has(name)) return undefined;
      keys.add(name);
    }
    if (r.field(ENTRY_VALUE, entryEnd) !== entryEnd) return undefined;
    const value = valueText(r, entryEnd, depth);
    if (value === undefined) return undefined;
    const key = JSON.stringify(name);
    text += text.length === 1 ? `${key}:${value}` : `,${key}:${value}`;
  }
  return r.pos === end ? `${text}}` : undefined;
}

/** A Value's one field, ending at `end`; nested objects and lists are one level below `depth`. */
function valueText(r: WireReader, end: number, depth: number): string | undefined {
  const buf = r.buf;
  if (r.pos >= end) return undefined;
  const tag = buf[r.pos++];
  let text: string | undefined;
  switch (tag) {
    case NULL_VALUE:
      text = buf[r.pos++] === 0 ? "null" : undefined;
      break;
    case NUMBER_VALUE: {
      if (r.pos + 8 > end) return undefined;
      const n = buf.readDoubleLE(r.pos);
      r.pos += 8;
      // String(-0) is "0", as JSON.stringify writes it.
      text = Number.isFinite(n) ? String(n) : undefined;
      break;
    }
    case STRING_VALUE: {
      const stringEnd = r.length(end);
      text = stringEnd < 0 ? undefined : r.jsonString(stringEnd);
      break;
    }
    case BOOL_VALUE: {
      const b = buf[r.pos++];
      text = b === 1 ? "true" : b === 0 ? "false" : undefined;
      break;
    }
    case STRUCT_VALUE: {
      const structEnd = r.length(end);
      text = structEnd < 0 ? undefined : struct(r, structEnd, depth + 1);
      break;
    }
    case LIST_VALUE: {
      const listEnd = r.length(end);
      text = listEnd < 0 ? undefined : list(r, listEnd, depth + 1);
      break;
    }
    default:
      return undefined;
  }
  return r.pos === end ? text : undefined;
}

/** A ListValue's values up to `end`, as a JSON array at nesting level `depth`. */
function list(r: WireReader, end: number, depth: number): string | undefined {
  if (depth > limits.maxJsonDepth) return undefined;
  let text = "[";
  while (r.pos < end) {
    const itemEnd = r.field(ENTRY, end);
    if (itemEnd < 0) return undefined;
    const item = valueText(r, itemEnd, depth);
    if (item === undefined) return undefined;
    text += text.length === 1 ? item : `,${item}`;
  }
  return r.pos === end ? `${text}]` : undefined;
}
