import { isUtf8 } from "node:buffer";

// The fast Buffer methods below exist on every Buffer; the typings leave them out.
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string };

/**
 * A reader of protobuf wire bytes for the request decoders that take only
 * the common, canonical form and leave everything else to the generic
 * decoder: each read returns -1 or undefined instead of throwing where the
 * bytes are not what it expects (past the end, a padded varint, invalid
 * UTF-8), and the caller gives up.
 */
export class WireReader {
  pos = 0;
  readonly buf: NodeBuffer;

  constructor(bytes: Uint8Array) {
    this.buf = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as NodeBuffer;
  }

  get end(): number {
    return this.buf.length;
  }

  /** A minimal varint below 2^28 (tags, lengths), or -1. */
  varint(end: number): number {
    const buf = this.buf;
    if (this.pos >= end) return -1;
    let b = buf[this.pos++]!;
    let n = b & 0x7f;
    for (let shift = 7; b >= 0x80; shift += 7) {
      if (this.pos >= end || shift > 21) return -1;
      b = buf[this.pos++]!;
      // A last byte of 0 after others pads the varint: not minimal.
      if (b === 0) return -1;
      n |= (b & 0x7f) << shift;
    }
    return n;
  }

  /** An int64 varint as protobuf-es returns it (a bigint, negative values as two's complement), or undefined. */
  int64(end: number): bigint | undefined {
    const start = this.pos;
    const small = this.varint(end);
    if (small >= 0) return BigInt(small);
    this.pos = start;
    let n = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= end) return undefined;
      const b = this.buf[this.pos++]!;
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, n);
    }
    return undefined;
  }

  /** A length prefix; where the data it announces ends, or -1 past `end`. */
  length(end: number): number {
    const n = this.varint(end);
    if (n < 0) return -1;
    const dataEnd = this.pos + n;
    return dataEnd <= end ? dataEnd : -1;
  }

  /** Reads `tag` and its length prefix; the field's end, or -1 when the next byte is not `tag` or the field overruns `end`. */
  field(tag: number, end: number): number {
    if (this.pos >= end || this.buf[this.pos] !== tag) return -1;
    this.pos++;
    return this.length(end);
  }

  /** A length-prefixed string, or undefined when it is not valid UTF-8. */
  string(end: number): string | undefined {
    const stringEnd = this.length(end);
    return stringEnd < 0 ? undefined : this.text(stringEnd);
  }

  /** The UTF-8 text up to `end`, or undefined when it is not valid UTF-8. */
  text(end: number): string | undefined {
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    if (isAscii(buf, start, end)) return buf.latin1Slice(start, end);
    const text = buf.utf8Slice(start, end);
    // Invalid UTF-8 decodes to U+FFFD, which may also be genuine.
    return text.includes("\ufffd") && !isUtf8(buf.subarray(start, end)) ? undefined : text;
  }

  /**
   * The UTF-8 text up to `end` as a JSON string literal (as JSON.stringify
   * writes it), or undefined when it is not valid UTF-8 or holds U+0000.
   */
  jsonString(end: number): string | undefined {
    const buf = this.buf;
    const start = this.pos;
    if (isPlain(buf, start, end)) {
      this.pos = end;
      return `"${buf.latin1Slice(start, end)}"`;
    }
    const text = this.text(end);
    return text === undefined || text.includes("\u0000") ? undefined : JSON.stringify(text);
  }
}

function isAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i]! > 0x7f) return false;
  return true;
}

/** Printable ASCII without `"` or `\`: its JSON literal is itself in quotes. */
function isPlain(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return false;
  }
  return true;
}
