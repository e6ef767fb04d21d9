import { BinaryWriter } from "@bufbuild/protobuf/wire";

/**
 * A protobuf wire writer over one growing Node.js Buffer, for the event
 * encoder's hot path. It writes the same bytes as protobuf-es' BinaryWriter
 * (minimal varints, length prefixes sized to their payload) but encodes
 * strings natively into place and never copies a finished payload out:
 * callers take views of {@link bytes}.
 */
export class WireBuffer {
  /** Everything written so far is `buf.subarray(0, pos)`; the buffer is replaced when it grows. */
  buf: Buffer;
  pos = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** An unsigned varint below 2^32 (tags, lengths). */
  uint32(value: number): this {
    this.ensure(5);
    this.pos = putVarint(this.buf, this.pos, value);
    return this;
  }

  /** An int64 varint; non-negative safe integers take the fast path. */
  int64(value: bigint): this {
    const n = Number(value);
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
      if (n <= 0xffffffff) return this.uint32(n);
      this.ensure(10);
      let rest = n;
      while (rest > 0x7f) {
        this.buf[this.pos++] = (rest % 128) | 0x80;
        rest = Math.floor(rest / 128);
      }
      this.buf[this.pos++] = rest;
      return this;
    }
    // Negative and huge values: two's complement over 64 bits, as protobuf-es writes it.
    return this.raw(new BinaryWriter().int64(value).finish());
  }

  /** An int32 varint (negative values take 10 bytes, sign-extended). */
  int32(value: number): this {
    return value >= 0 ? this.uint32(value) : this.raw(new BinaryWriter().int32(value).finish());
  }

  bool(value: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
    return this;
  }

  /** A length-prefixed UTF-8 string; lone surrogates become U+FFFD, as with TextEncoder. */
  string(value: string): this {
    const length = value.length;
    this.ensure(length * 3 + 5);
    const buf = this.buf;
    if (length < 0x80) {
      // Short ASCII text is copied by hand: cheaper than a native call.
      let pos = this.pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buf[pos++] = code;
      }
      if (i === length) {
        buf[this.pos] = length;
        this.pos = pos;
        return this;
      }
    }
    // The prefix is sized for ASCII text; longer UTF-8 moves the text up.
    const guess = varintSize(length);
    const start = this.pos;
    const written = buf.write(value, start + guess);
    const size = varintSize(written);
    if (size !== guess) buf.copyWithin(start + size, start + guess, start + guess + written);
    this.uint32(written);
    this.pos += written;
    return this;
  }

  /** The bytes of base64 text, decoded into place. */
  base64(text: string): this {
    this.ensure(base64Size(text));
    this.pos += this.buf.write(text, this.pos, "base64");
    return this;
  }

  raw(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /**
   * Starts a length-delimited payload; returns the mark {@link join} takes.
   * Room is kept for the length of a payload of `expected` bytes (one byte
   * without it); join moves the payload only when the guess was wrong.
   */
  fork(expected = 0): number {
    const room = varintSize(expected);
    this.ensure(room);
    const mark = this.pos;
    // Noted in the room's first byte, which join overwrites.
    this.buf[mark] = room;
    this.pos += room;
    return mark;
  }

  /** Ends the payload started at `mark`, writing its length before it. */
  join(mark: number): this {
    const room = this.buf[mark]!;
    const length = this.pos - mark - room;
    if (length < 0x80 && room === 1) {
      this.buf[mark] = length;
      return this;
    }
    const size = varintSize(length);
    if (size !== room) {
      this.ensure(size - room);
      this.buf.copyWithin(mark + size, mark + room, this.pos);
    }
    this.pos = mark;
    this.uint32(length);
    this.pos += length;
    return this;
  }
}

/** Writes an unsigned varint below 2^32 at `pos`; returns the position after it. */
export function putVarint(bytes: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    bytes[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[pos++] = value;
  return pos;
}

/** Bytes of a uint32 varint. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes that base64 text decodes to, at most (exactly, for padded or unpadded standard base64). */
export function base64Size(text: string): number {
  let size = Math.floor((text.length * 3) / 4);
  if (text.endsWith("==")) size -= 2;
  else if (text.endsWith("=")) size -= 1;
  return size;
}
