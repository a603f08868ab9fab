import { invalidArgument } from '../../core/errors.js';

/** Protobuf wire types we meet in Flight.proto. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/**
 * A bounds-checked protobuf reader. Every malformed input ends in INVALID_ARGUMENT,
 * never in an out-of-range read or an endless loop.
 */
export class ProtoReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly buf: Uint8Array,
    private readonly what: string,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  fail(reason: string): never {
    throw invalidArgument(`malformed ${this.what}: ${reason}`);
  }

  /** Reads a varint as a JS number; values beyond 2^53 lose precision, which no Flight field needs. */
  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return result;
      shift *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** int64 fields: negative values arrive as ten-byte two's complement varints. */
  int64(): number {
    const start = this.pos;
    const v = this.varint();
    if (this.pos - start < 10) return v;
    // Ten bytes: possibly negative. Doubles cannot hold 2^64 - 1 exactly, so redo it in BigInt.
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('field number 0');
    return { field, wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.end - this.pos) this.fail(`length ${len} runs past the end of the message`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    try {
      return textDecoder.decode(this.bytes());
    } catch (err) {
      if (err instanceof TypeError) this.fail('string field is not valid UTF-8');
      throw err;
    }
  }

  double(): number {
    if (this.end - this.pos < 8) this.fail('truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.I64:
        if (this.end - this.pos < 8) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case WireType.LEN:
        this.bytes();
        return;
      case WireType.I32:
        if (this.end - this.pos < 4) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  /** Checks the wire type of a known field, so a mistyped field is an error rather than garbage. */
  expect(wire: number, expected: number, field: number): void {
    if (wire !== expected) this.fail(`field ${field} has wire type ${wire}, expected ${expected}`);
  }
}

/** A growable protobuf writer. */
export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;
  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  rawVarint(value: number): this {
    this.ensure(10);
    if (value < 0) {
      // Two's complement over 64 bits, as protobuf encodes negative int64.
      let big = BigInt.asUintN(64, BigInt(value));
      while (big >= 0x80n) {
        this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.buf[this.pos++] = Number(big);
      return this;
    }
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** A varint field with explicit presence (`optional`): written even when zero. */
  presentVarint(field: number, value: number): this {
    this.key(field, WireType.VARINT);
    return this.rawVarint(value);
  }

  /** Writes a varint field; zero is the default and is left out, as proto3 does. */
  uint(field: number, value: number): this {
    if (value === 0) return this;
    this.key(field, WireType.VARINT);
    return this.rawVarint(value);
  }

  bool(field: number, value: boolean): this {
    return value ? this.uint(field, 1) : this;
  }

  bytes(field: number, value: Uint8Array | undefined, always = false): this {
    if (!value || (value.length === 0 && !always)) return this;
    this.key(field, WireType.LEN);
    this.rawVarint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  string(field: number, value: string | undefined, always = false): this {
    if (value === undefined || (value === '' && !always)) return this;
    return this.bytes(field, textEncoder.encode(value), true);
  }

  double(field: number, value: number): this {
    this.key(field, WireType.I64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
    return this;
  }

  /** Writes a nested message; `always` writes it even when empty (presence matters). */
  message(field: number, encoded: Uint8Array | undefined, always = true): this {
    if (encoded === undefined) return this;
    return this.bytes(field, encoded, always);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Length of `value` as a varint, for writers that lay out bytes themselves. */
export function varintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `value` as a varint into `out` at `pos`, returning the position after it. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/** Reads every field of a message; `onField` returns false for a field it does not know, which is skipped. */
export function readFields(
  buf: Uint8Array,
  what: string,
  onField: (r: ProtoReader, field: number, wire: number) => boolean,
): void {
  const r = new ProtoReader(buf, what);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (!onField(r, field, wire)) r.skip(wire);
  }
}

export function lenField(r: ProtoReader, wire: number, field: number): Uint8Array {
  r.expect(wire, WireType.LEN, field);
  return r.bytes();
}
export function strField(r: ProtoReader, wire: number, field: number): string {
  r.expect(wire, WireType.LEN, field);
  return r.string();
}
export function intField(r: ProtoReader, wire: number, field: number): number {
  r.expect(wire, WireType.VARINT, field);
  return r.int64();
}

