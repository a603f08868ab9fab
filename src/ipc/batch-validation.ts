/**
 * Structural validation of uploaded Arrow IPC batches, before they are stored.
 *
 * Other users' readers (pyarrow, Arrow C++) trust a batch's buffers: a utf8 offset past the end
 * of its data buffer, or a dictionary index past the end of its dictionary, makes them read
 * outside the buffer and crash. Every dictionary batch and record batch of an upload is therefore
 * checked against the upload's schema here, following the Arrow columnar format and IPC spec.
 *
 * The body is only read, never copied or changed, in one pass over each buffer that needs one,
 * with typed arrays laid over the body where the bytes are aligned (a DataView where not), and no
 * allocation per value: a 10-million-row batch must validate in a few tens of milliseconds.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { DateUnit, IntervalUnit, MessageHeader, MetadataVersion, Precision, Type, UnionMode } from 'apache-arrow';
import type { DataType, Field, Message, Schema } from 'apache-arrow';
import { invalidArgument } from '../core/errors.js';
import { decompressBody } from './body-decompression.js';

const CORRUPT = '(corrupt batch; nothing was stored)';

// ---------------------------------------------------------------------------------------------
// The schema, compiled once into a tree of columns that says how each consumes nodes and buffers.

type Layout =
  | { readonly kind: 'null' }
  | { readonly kind: 'fixed'; readonly width: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'binary'; readonly offsetWidth: 4 | 8; readonly utf8: boolean }
  | { readonly kind: 'view'; readonly utf8: boolean }
  | { readonly kind: 'list'; readonly offsetWidth: 4 | 8; readonly map: boolean }
  | { readonly kind: 'fixedList'; readonly size: number }
  | { readonly kind: 'struct' }
  | { readonly kind: 'union'; readonly dense: boolean; readonly childOf: Int8Array; readonly declared: string }
  | { readonly kind: 'dictionary'; readonly id: number; readonly width: 1 | 2 | 4 | 8; readonly signed: boolean };

interface Column {
  readonly path: string;
  readonly typeName: string;
  readonly layout: Layout;
  readonly children: readonly Column[];
  /** FieldNodes this column and its descendants consume. */
  readonly nodeCount: number;
  /** Buffers they consume, not counting variadic buffers or the V4 union validity slots. */
  readonly bufferCount: number;
  readonly unionCount: number;
  readonly viewCount: number;
}

const BUFFERS: Record<Layout['kind'], number> = {
  null: 0,
  fixed: 2,
  bool: 2,
  binary: 3,
  view: 2,
  list: 2,
  fixedList: 1,
  struct: 1,
  union: 1, // plus the offsets of a dense union, counted in makeColumn
  dictionary: 2,
};

function makeColumn(path: string, type: DataType, layout: Layout, children: Column[]): Column {
  let nodeCount = 1;
  let bufferCount = BUFFERS[layout.kind] + (layout.kind === 'union' && layout.dense ? 1 : 0);
  let unionCount = layout.kind === 'union' ? 1 : 0;
  let viewCount = layout.kind === 'view' ? 1 : 0;
  for (const c of children) {
    nodeCount += c.nodeCount;
    bufferCount += c.bufferCount;
    unionCount += c.unionCount;
    viewCount += c.viewCount;
  }
  return { path, typeName: String(type), layout, children, nodeCount, bufferCount, unionCount, viewCount };
}

const refuseType = (path: string, type: DataType, why = ''): never => {
  const shown = String(type);
  const name = shown.startsWith('[object') ? (Type[type.typeId] ?? 'unknown') : shown;
  throw invalidArgument(`column "${path}": unsupported type ${name} (type id ${String(type.typeId)})${why} (nothing was stored)`);
};

class SchemaCompiler {
  /** The value column of each dictionary id, named after the first field that uses it. */
  readonly dictionaries = new Map<number, Column>();

  field(field: Field, parentPath: string | null): Column {
    const path = parentPath === null ? field.name : `${parentPath}.${field.name}`;
    return this.type(path, field.type);
  }

  private type(path: string, type: DataType): Column {
    if (type.typeId === Type.Dictionary) return this.dictionary(path, type);
    const children = (type.children ?? []).map((f) => this.field(f, path));
    return makeColumn(path, type, this.layout(path, type, children), children);
  }

  private dictionary(path: string, type: DataType): Column {
    const t = type as unknown as { id: number; indices: DataType; dictionary: DataType };
    const id = Number(t.id);
    if (!this.dictionaries.has(id)) this.dictionaries.set(id, this.type(path, t.dictionary));
    const { width, signed } = intType(path, t.indices);
    return makeColumn(path, type, { kind: 'dictionary', id, width, signed }, []);
  }

  private layout(path: string, type: DataType, children: Column[]): Layout {
    const t = type as unknown as Record<string, unknown>;
    switch (type.typeId) {
      case Type.NONE:
      case Type.Null:
        return { kind: 'null' };
      case Type.Bool:
        return { kind: 'bool' };
      case Type.Int:
        return { kind: 'fixed', width: intType(path, type).width };
      case Type.Float:
        return { kind: 'fixed', width: floatWidth(path, type, t.precision) };
      case Type.Decimal:
        return { kind: 'fixed', width: bitsToBytes(path, type, t.bitWidth, [32, 64, 128, 256]) };
      case Type.Date:
        return { kind: 'fixed', width: t.unit === DateUnit.DAY ? 4 : 8 };
      case Type.Time:
        return { kind: 'fixed', width: bitsToBytes(path, type, t.bitWidth, [32, 64]) };
      case Type.Timestamp:
      case Type.Duration:
        return { kind: 'fixed', width: 8 };
      case Type.Interval:
        return { kind: 'fixed', width: intervalWidth(path, type, t.unit) };
      case Type.FixedSizeBinary:
        return { kind: 'fixed', width: nonNegative(path, type, t.byteWidth, 'byte width') };
      case Type.Binary:
      case Type.Utf8:
        return { kind: 'binary', offsetWidth: 4, utf8: type.typeId === Type.Utf8 };
      case Type.LargeBinary:
      case Type.LargeUtf8:
        return { kind: 'binary', offsetWidth: 8, utf8: type.typeId === Type.LargeUtf8 };
      case Type.BinaryView:
      case Type.Utf8View:
        return { kind: 'view', utf8: type.typeId === Type.Utf8View };
      case Type.List:
      case Type.LargeList:
        expectChildren(path, type, children, 1);
        return { kind: 'list', offsetWidth: type.typeId === Type.List ? 4 : 8, map: false };
      case Type.Map:
        expectChildren(path, type, children, 1);
        if (children[0]!.layout.kind !== 'struct' || children[0]!.children.length !== 2) {
          refuseType(path, type, ': a map\'s entries must be a struct of key and value');
        }
        return { kind: 'list', offsetWidth: 4, map: true };
      case Type.FixedSizeList:
        expectChildren(path, type, children, 1);
        return { kind: 'fixedList', size: nonNegative(path, type, t.listSize, 'list size') };
      case Type.Struct:
        return { kind: 'struct' };
      case Type.Union:
        return unionLayout(path, type, children.length);
      default:
        return refuseType(path, type);
    }
  }
}

function expectChildren(path: string, type: DataType, children: Column[], n: number): void {
  if (children.length !== n) refuseType(path, type, `: expected ${n} child field(s), found ${children.length}`);
}

function intType(path: string, type: DataType): { width: 1 | 2 | 4 | 8; signed: boolean } {
  const t = type as unknown as { bitWidth: unknown; isSigned: unknown };
  if (type.typeId !== Type.Int) refuseType(path, type, ': dictionary indices must be integers');
  const width = bitsToBytes(path, type, t.bitWidth, [8, 16, 32, 64]) as 1 | 2 | 4 | 8;
  return { width, signed: t.isSigned !== false };
}

function bitsToBytes(path: string, type: DataType, bits: unknown, allowed: number[]): number {
  const n = Number(bits);
  if (!allowed.includes(n)) refuseType(path, type, `: bit width ${String(bits)}`);
  return n / 8;
}

function floatWidth(path: string, type: DataType, precision: unknown): number {
  if (precision === Precision.HALF) return 2;
  if (precision === Precision.SINGLE) return 4;
  if (precision === Precision.DOUBLE) return 8;
  return refuseType(path, type, `: float precision ${String(precision)}`);
}

function intervalWidth(path: string, type: DataType, unit: unknown): number {
  if (unit === IntervalUnit.YEAR_MONTH) return 4;
  if (unit === IntervalUnit.DAY_TIME) return 8;
  if (unit === IntervalUnit.MONTH_DAY_NANO) return 16;
  return refuseType(path, type, `: interval unit ${String(unit)}`);
}

function nonNegative(path: string, type: DataType, value: unknown, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) refuseType(path, type, `: ${what} ${String(value)}`);
  return n;
}

/** Maps each declared type id (0..127, as the int8 type-ids buffer holds them) to its child. */
function unionLayout(path: string, type: DataType, childCount: number): Layout {
  const t = type as unknown as { mode: unknown; typeIds: ArrayLike<number> | null };
  // An absent typeIds vector means the ids are the child positions.
  const ids = t.typeIds && t.typeIds.length > 0 ? Array.from(t.typeIds) : Array.from({ length: childCount }, (_, i) => i);
  if (ids.length !== childCount) refuseType(path, type, `: ${ids.length} type ids for ${childCount} children`);
  const childOf = new Int8Array(128).fill(-1);
  ids.forEach((id, child) => {
    if (!(Number.isInteger(id) && id >= 0 && id < 128) || childOf[id] !== -1) refuseType(path, type, `: bad type ids [${ids.join(', ')}]`);
    childOf[id] = child;
  });
  if (t.mode !== UnionMode.Dense && t.mode !== UnionMode.Sparse) refuseType(path, type, `: union mode ${String(t.mode)}`);
  return { kind: 'union', dense: t.mode === UnionMode.Dense, childOf, declared: `[${ids.join(', ')}]` };
}

// ---------------------------------------------------------------------------------------------
// Reading the body.

/** Set bits in each byte value. */
const POP8 = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v !== 0; v >>>= 1) n += v & 1;
  return n;
});

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Set bits among the first `bits` bits of the bitmap at `at`: bytewise up to 4-byte alignment, then by words. */
function countSetBits(body: Uint8Array, at: number, bits: number): number {
  const end = at + Math.floor(bits / 8);
  let count = 0;
  let i = at;
  while (i < end && ((body.byteOffset + i) & 3) !== 0) count += POP8[body[i++]!]!;
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const w = new Int32Array(body.buffer, body.byteOffset + i, words);
    for (let k = 0; k < words; k++) count += popcount32(w[k]!);
    i += words * 4;
  }
  while (i < end) count += POP8[body[i++]!]!;
  const rest = bits % 8;
  if (rest !== 0) count += POP8[body[end]! & ((1 << rest) - 1)]!;
  return count;
}

const isSet = (body: Uint8Array, bitmapAt: number, i: number): boolean =>
  ((body[bitmapAt + Math.floor(i / 8)]! >> (i & 7)) & 1) === 1;

/** Little-endian int32s of one buffer: over an Int32Array when aligned, else through a DataView. */
class Int32s {
  readonly words: Int32Array | null;
  private readonly view: DataView;
  constructor(body: Uint8Array, at: number, count: number) {
    const abs = body.byteOffset + at;
    this.words = abs % 4 === 0 ? new Int32Array(body.buffer, abs, count) : null;
    this.view = new DataView(body.buffer, abs, count * 4);
  }
  get(i: number): number {
    return this.words !== null ? this.words[i]! : this.view.getInt32(i * 4, true);
  }
}

const TWO_32 = 4294967296;

/**
 * Little-endian int64s of one buffer as numbers, NaN when beyond 2^53. Read as int32 halves
 * (4-byte alignment suffices), so no BigInt is made per value.
 */
class Int64s {
  private readonly words: Int32Array | null;
  private readonly view: DataView;
  constructor(body: Uint8Array, at: number, count: number) {
    const abs = body.byteOffset + at;
    this.words = abs % 4 === 0 ? new Int32Array(body.buffer, abs, count * 2) : null;
    this.view = new DataView(body.buffer, abs, count * 8);
  }
  get(i: number): number {
    const lo = this.words !== null ? this.words[2 * i]! >>> 0 : this.view.getUint32(i * 8, true);
    const hi = this.words !== null ? this.words[2 * i + 1]! : this.view.getInt32(i * 8 + 4, true);
    // |hi| < 2^21 keeps hi * 2^32 + lo exact; outside it the value is not a safe integer.
    return hi >= -0x200000 && hi < 0x200000 ? hi * TWO_32 + lo : NaN;
  }
}

type Offsets = Int32s | Int64s;

const offsetsOf = (body: Uint8Array, at: number, count: number, width: 4 | 8): Offsets =>
  width === 4 ? new Int32s(body, at, count) : new Int64s(body, at, count);

/** The first offset that is negative, unsafe or less than its predecessor; -1 when none is. */
function firstBadOffset(offsets: Offsets, count: number): number {
  // The common case (aligned int32 offsets of a big string column) gets a loop of its own, which
  // the JIT keeps free of the reader's dispatch.
  if (offsets instanceof Int32s && offsets.words !== null) return firstDecrease(offsets.words, count);
  let prev = offsets.get(0);
  if (!(prev >= 0)) return 0;
  for (let i = 1; i < count; i++) {
    const v = offsets.get(i);
    if (!(v >= prev)) return i;
    prev = v;
  }
  return -1;
}

function firstDecrease(a: Int32Array, count: number): number {
  let prev = a[0]!;
  if (prev < 0) return 0;
  for (let i = 1; i < count; i++) {
    const v = a[i]!;
    if (v < prev) return i;
    prev = v;
  }
  return -1;
}

/** One integer of `width` bytes at byte `pos` of `view`, as a number (NaN beyond 2^53). */
function intAt(view: DataView, pos: number, width: 1 | 2 | 4 | 8, signed: boolean): number {
  switch (width) {
    case 1:
      return signed ? view.getInt8(pos) : view.getUint8(pos);
    case 2:
      return signed ? view.getInt16(pos, true) : view.getUint16(pos, true);
    case 4:
      return signed ? view.getInt32(pos, true) : view.getUint32(pos, true);
    case 8: {
      const v = signed ? view.getBigInt64(pos, true) : view.getBigUint64(pos, true);
      return v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn ? Number(v) : NaN;
    }
  }
}

/** The typed array kind that lays `width`-byte integers over the body. */
function indexArray(body: Uint8Array, abs: number, length: number, width: 1 | 2 | 4, signed: boolean): ArrayLike<number> {
  const b = body.buffer;
  if (width === 1) return signed ? new Int8Array(b, abs, length) : new Uint8Array(b, abs, length);
  if (width === 2) return signed ? new Int16Array(b, abs, length) : new Uint16Array(b, abs, length);
  return signed ? new Int32Array(b, abs, length) : new Uint32Array(b, abs, length);
}

/**
 * The first non-null slot whose index is outside [0, limit); -1 when none is. Null slots may hold
 * anything, so the bitmap is only consulted for an index that is out of range.
 */
function firstBadIndex(
  body: Uint8Array,
  at: number,
  length: number,
  width: 1 | 2 | 4 | 8,
  signed: boolean,
  limit: number,
  bitmapAt: number,
): number {
  const abs = body.byteOffset + at;
  const bad = (i: number): boolean => bitmapAt < 0 || isSet(body, bitmapAt, i);
  if (width === 8 && abs % 4 === 0) {
    const w = new Int32Array(body.buffer, abs, length * 2);
    for (let i = 0; i < length; i++) {
      const hi = signed ? w[2 * i + 1]! : w[2 * i + 1]! >>> 0;
      const v = hi * TWO_32 + (w[2 * i]! >>> 0);
      if (!(v >= 0 && v < limit) && bad(i)) return i;
    }
    return -1;
  }
  if (width !== 8 && abs % width === 0) {
    const a = indexArray(body, abs, length, width, signed);
    for (let i = 0; i < length; i++) {
      const v = a[i]!;
      if (!(v >= 0 && v < limit) && bad(i)) return i;
    }
    return -1;
  }
  const view = new DataView(body.buffer, abs, length * width);
  for (let i = 0; i < length; i++) {
    const v = intAt(view, i * width, width, signed);
    if (!(v >= 0 && v < limit) && bad(i)) return i;
  }
  return -1;
}

/** Whether bytes [start, end) are UTF-8, without making a view per value (for string views). */
function utf8Range(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let extra: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) extra = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      else if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      else if (c === 0xf4) hi = 0x8f; // past U+10FFFF
    } else return false;
    if (i + extra >= end) return false;
    const c1 = b[i + 1]!;
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= extra; k++) if ((b[i + k]! & 0xc0) !== 0x80) return false;
    i += extra + 1;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The metadata, as apache-arrow decodes it; numbers may arrive as bigint.

type Int = number | bigint;

interface NodeLike {
  readonly length: Int;
  readonly nullCount: Int;
}
interface RegionLike {
  readonly offset: Int;
  readonly length: Int;
}
interface BatchHeaderLike {
  readonly length: Int;
  readonly nodes: readonly NodeLike[];
  readonly buffers: readonly RegionLike[];
  readonly compression?: unknown;
  readonly variadicBufferCounts?: readonly Int[];
}
interface DictionaryHeaderLike {
  readonly id: Int;
  readonly isDelta: boolean;
  readonly data: BatchHeaderLike;
}

/** A safe non-negative integer, or NaN (which fails every range check below). */
function count(v: unknown): number {
  const n = typeof v === 'bigint' ? (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN) : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : NaN;
}

const show = (n: number): string => (Number.isNaN(n) ? 'invalid' : String(n));

// ---------------------------------------------------------------------------------------------
// One batch, walked depth-first: each column takes its FieldNode and its buffers in spec order.

class BatchWalk {
  private node = 0;
  private buffer = 0;
  private variadic = 0;
  private readonly lengths: number[];
  private readonly nulls: number[];
  private readonly regionAt: number[];
  private readonly regionSize: number[];
  private readonly variadicCounts: number[];
  private readonly view: DataView;

  constructor(
    private readonly body: Uint8Array,
    header: BatchHeaderLike,
    private readonly where: string,
    private readonly unionValidity: boolean,
    private readonly dictionaryLengths: ReadonlyMap<number, number>,
  ) {
    this.lengths = header.nodes.map((n) => count(n.length));
    this.nulls = header.nodes.map((n) => count(n.nullCount));
    this.regionAt = header.buffers.map((b) => count(b.offset));
    this.regionSize = header.buffers.map((b) => count(b.length));
    this.variadicCounts = (header.variadicBufferCounts ?? []).map(count);
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  /** Counts and buffer regions, checked before anything is read through them. */
  checkShape(columns: readonly Column[]): void {
    let nodes = 0;
    let buffers = 0;
    let views = 0;
    for (const c of columns) {
      nodes += c.nodeCount;
      buffers += c.bufferCount + (this.unionValidity ? c.unionCount : 0);
      views += c.viewCount;
    }
    if (this.lengths.length !== nodes) this.failBatch(`has ${this.lengths.length} field nodes but the schema needs ${nodes}`);
    if (this.variadicCounts.length !== views) {
      this.failBatch(`has ${this.variadicCounts.length} variadic buffer counts but the schema has ${views} view columns`);
    }
    for (const n of this.variadicCounts) if (Number.isNaN(n)) this.failBatch('has an invalid variadic buffer count');
    buffers += this.variadicCounts.reduce((a, b) => a + b, 0);
    if (this.regionAt.length !== buffers) this.failBatch(`has ${this.regionAt.length} buffers but the schema needs ${buffers}`);
    for (let i = 0; i < this.regionAt.length; i++) {
      const at = this.regionAt[i]!;
      const size = this.regionSize[i]!;
      if (!(at + size <= this.body.length)) {
        this.failBatch(`buffer ${i} (offset ${show(at)}, length ${show(size)}) lies outside the ${this.body.length}-byte body`);
      }
      // The IPC format requires it, and Arrow C++ (so pyarrow) refuses to read a batch without it.
      if (at % 8 !== 0) this.failBatch(`buffer ${i} starts at offset ${at}, which is not a multiple of 8`);
    }
  }

  /** Walks the top-level columns, each of which must have the batch's length. */
  walk(columns: readonly Column[], rows: number): void {
    for (const c of columns) {
      const length = this.lengths[this.node]!;
      // An invalid length is reported by visit().
      if (length !== rows && !Number.isNaN(length)) this.fail(c, `has ${length} values but the batch has ${rows} rows`);
      this.visit(c);
    }
  }

  private failBatch(problem: string): never {
    throw invalidArgument(`${this.where} ${problem} ${CORRUPT}`);
  }

  private fail(c: Column, problem: string): never {
    throw invalidArgument(`${this.where}, column "${c.path}" (${c.typeName}): ${problem} ${CORRUPT}`);
  }

  private visit(c: Column): void {
    const index = this.node++;
    const length = this.lengths[index]!;
    const nulls = this.nulls[index]!;
    if (Number.isNaN(length)) this.fail(c, 'the field node has an invalid length');
    if (Number.isNaN(nulls)) this.fail(c, 'the field node has an invalid null count');
    if (nulls > length) this.fail(c, `null count ${nulls} exceeds the length ${length}`);
    const l = c.layout;
    switch (l.kind) {
      case 'null':
        return;
      case 'fixed':
        this.validity(c, length, nulls);
        return this.data(c, length * l.width, `${length} values of ${l.width} bytes`);
      case 'bool':
        this.validity(c, length, nulls);
        return this.data(c, Math.ceil(length / 8), `${length} bits`);
      case 'binary':
        return this.binary(c, l.offsetWidth, l.utf8, length, nulls);
      case 'view':
        return this.views(c, l.utf8, length, nulls);
      case 'list':
        return this.list(c, index, l.offsetWidth, l.map, length, nulls);
      case 'fixedList':
        return this.fixedList(c, index, l.size, length, nulls);
      case 'struct':
        return this.struct(c, index, length, nulls);
      case 'union':
        return this.union(c, index, l, length, nulls);
      case 'dictionary':
        return this.dictionary(c, l, length, nulls);
    }
  }

  private take(): number {
    return this.buffer++;
  }

  /** Checks the validity bitmap; returns where it starts, or -1 when absent (no nulls). */
  private validity(c: Column, length: number, nulls: number): number {
    const b = this.take();
    const size = this.regionSize[b]!;
    if (size === 0) {
      if (nulls !== 0) this.fail(c, `null count is ${nulls} but there is no validity bitmap`);
      return -1;
    }
    const need = Math.ceil(length / 8);
    if (size < need) this.fail(c, `validity bitmap holds ${size} bytes but ${length} values need ${need}`);
    const at = this.regionAt[b]!;
    const unset = length - countSetBits(this.body, at, length);
    if (unset !== nulls) this.fail(c, `null count is ${nulls} but the validity bitmap has ${unset} nulls`);
    return nulls === 0 ? -1 : at;
  }

  /** Takes a data buffer that must hold at least `need` bytes. */
  private data(c: Column, need: number, what: string): void {
    const b = this.take();
    if (this.regionSize[b]! < need) this.fail(c, `data buffer holds ${this.regionSize[b]} bytes but ${what} need ${need}`);
  }

  /**
   * Takes an offsets buffer for `length` values and checks it; returns the offsets (null when
   * length is 0, where the buffer may be empty) with the first and last.
   */
  private offsetBuffer(c: Column, width: 4 | 8, length: number): { offsets: Offsets; first: number; last: number } | null {
    const b = this.take();
    if (length === 0) return null;
    const need = (length + 1) * width;
    if (this.regionSize[b]! < need) this.fail(c, `offsets buffer holds ${this.regionSize[b]} bytes but ${length} values need ${need}`);
    const offsets = offsetsOf(this.body, this.regionAt[b]!, length + 1, width);
    const bad = firstBadOffset(offsets, length + 1);
    if (bad >= 0) this.fail(c, this.describeBadOffset(offsets, bad, this.regionAt[b]!));
    return { offsets, first: offsets.get(0), last: offsets.get(length) };
  }

  private describeBadOffset(offsets: Offsets, i: number, at: number): string {
    const v = offsets.get(i);
    if (Number.isNaN(v)) return `offset ${i} is ${this.view.getBigInt64(at + i * 8, true)}, beyond 2^53`;
    if (i === 0) return `the first offset is ${v}, less than 0`;
    return `offset ${i} is ${v}, less than offset ${i - 1} (${offsets.get(i - 1)}): offsets must not decrease`;
  }

  private binary(c: Column, width: 4 | 8, utf8: boolean, length: number, nulls: number): void {
    this.validity(c, length, nulls);
    const scanned = this.offsetBuffer(c, width, length);
    const data = this.take();
    if (scanned === null) return;
    const { offsets, first, last } = scanned;
    const size = this.regionSize[data]!;
    if (last > size) this.fail(c, `offsets end at ${last} but the data buffer holds ${size} bytes`);
    if (utf8) this.utf8(c, offsets, length, this.regionAt[data]!, first, last);
  }

  /**
   * The whole range once, natively; then, only if it holds non-ASCII bytes, that no value starts
   * inside a character (valid text cut at character starts gives valid values).
   */
  private utf8(c: Column, offsets: Offsets, length: number, dataAt: number, first: number, last: number): void {
    const range = this.body.subarray(dataAt + first, dataAt + last);
    if (isAscii(range)) return;
    if (!isUtf8(range)) this.fail(c, `the values hold invalid UTF-8 (bytes ${first} to ${last} of the data buffer)`);
    for (let i = 1; i < length; i++) {
      const o = offsets.get(i);
      if (o < last && (this.body[dataAt + o]! & 0xc0) === 0x80) {
        this.fail(c, `value ${i} starts at byte ${o}, inside a UTF-8 character`);
      }
    }
  }

  private views(c: Column, utf8: boolean, length: number, nulls: number): void {
    const bitmapAt = this.validity(c, length, nulls);
    const b = this.take();
    if (this.regionSize[b]! < length * 16) this.fail(c, `views buffer holds ${this.regionSize[b]} bytes but ${length} views need ${length * 16}`);
    const data = { first: this.buffer, count: this.variadicCounts[this.variadic++]! };
    this.buffer += data.count;
    const viewsAt = this.regionAt[b]!;
    const words = new Int32s(this.body, viewsAt, length * 4);
    for (let i = 0; i < length; i++) {
      if (bitmapAt >= 0 && !isSet(this.body, bitmapAt, i)) continue;
      const size = words.get(4 * i);
      if (size < 0) this.fail(c, `view ${i} has length ${size}`);
      const at = size <= 12 ? this.inlineView(c, i, viewsAt + 16 * i, size) : this.referencedView(c, i, words, viewsAt + 16 * i, size, data);
      if (utf8 && !utf8Range(this.body, at, at + size)) this.fail(c, `view ${i} holds invalid UTF-8`);
    }
  }

  /** Checks a view whose bytes sit in the view itself; returns where they start. */
  private inlineView(c: Column, i: number, at: number, size: number): number {
    // The spec zero-pads inline values, and Arrow C++ full validation holds uploads to it.
    for (let k = at + 4 + size; k < at + 16; k++) {
      if (this.body[k] !== 0) this.fail(c, `view ${i} is inline with ${size} bytes but its padding is not zero`);
    }
    return at + 4;
  }

  /** Checks a view that points into a variadic data buffer; returns where its bytes start. */
  private referencedView(c: Column, i: number, words: Int32s, at: number, size: number, data: { first: number; count: number }): number {
    const index = words.get(4 * i + 2);
    const offset = words.get(4 * i + 3);
    if (!(index >= 0 && index < data.count)) this.fail(c, `view ${i} refers to data buffer ${index} but there are ${data.count}`);
    const bufferSize = this.regionSize[data.first + index]!;
    if (!(offset >= 0 && offset + size <= bufferSize)) {
      this.fail(c, `view ${i} covers bytes ${offset} to ${offset + size} of data buffer ${index}, which holds ${bufferSize}`);
    }
    const start = this.regionAt[data.first + index]! + offset;
    for (let k = 0; k < 4; k++) {
      if (this.body[at + 4 + k] !== this.body[start + k]) this.fail(c, `view ${i} has a prefix that differs from the first 4 bytes of its value`);
    }
    return start;
  }

  /** Node index of each child of the column whose node is at `index` (children follow depth-first). */
  private childNodes(c: Column, index: number): number[] {
    const out: number[] = [];
    let at = index + 1;
    for (const child of c.children) {
      out.push(at);
      at += child.nodeCount;
    }
    return out;
  }

  private list(c: Column, index: number, width: 4 | 8, map: boolean, length: number, nulls: number): void {
    this.validity(c, length, nulls);
    const child = c.children[0]!;
    const childLength = this.lengths[index + 1]!;
    const scanned = this.offsetBuffer(c, width, length);
    if (scanned !== null && scanned.last > childLength) {
      this.fail(c, `offsets end at ${scanned.last} but child column "${child.path}" has ${show(childLength)} values`);
    }
    if (map) this.mapEntries(child, index + 1);
    this.visit(child);
  }

  /** Map entries and keys may not be null: readers build hash keys from them. */
  private mapEntries(entries: Column, index: number): void {
    if (this.nulls[index] !== 0) this.fail(entries, `map entries have null count ${show(this.nulls[index]!)}; it must be 0`);
    const key = entries.children[0]!;
    if (this.nulls[index + 1] !== 0) this.fail(key, `map keys have null count ${show(this.nulls[index + 1]!)}; it must be 0`);
  }

  private fixedList(c: Column, index: number, size: number, length: number, nulls: number): void {
    this.validity(c, length, nulls);
    const child = c.children[0]!;
    const childLength = this.lengths[index + 1]!;
    const need = length * size;
    if (childLength < need) this.fail(child, `has ${childLength} values but ${length} lists of ${size} need ${need}`);
    this.visit(child);
  }

  private struct(c: Column, index: number, length: number, nulls: number): void {
    this.validity(c, length, nulls);
    const nodes = this.childNodes(c, index);
    c.children.forEach((child, k) => {
      const childLength = this.lengths[nodes[k]!]!;
      if (childLength < length) this.fail(child, `has ${childLength} values but its struct "${c.path}" has ${length}`);
    });
    for (const child of c.children) this.visit(child);
  }

  private union(c: Column, index: number, l: Extract<Layout, { kind: 'union' }>, length: number, nulls: number): void {
    // Since format 1.0 a union has no validity bitmap; V4 writers left a slot for one.
    if (this.unionValidity) this.take();
    if (nulls !== 0) this.fail(c, `null count is ${nulls}; a union has no validity bitmap, so it must be 0`);
    const types = this.take();
    if (this.regionSize[types]! < length) this.fail(c, `type ids buffer holds ${this.regionSize[types]} bytes but ${length} values need ${length}`);
    const typesAt = this.regionAt[types]!;
    const childLengths = this.childNodes(c, index).map((n) => this.lengths[n]!);
    if (l.dense) {
      const offsets = this.take();
      if (this.regionSize[offsets]! < length * 4) this.fail(c, `offsets buffer holds ${this.regionSize[offsets]} bytes but ${length} values need ${length * 4}`);
      this.denseSlots(c, l, length, typesAt, new Int32s(this.body, this.regionAt[offsets]!, length), childLengths);
    } else {
      this.sparseSlots(c, l, length, typesAt);
      c.children.forEach((child, k) => {
        if (childLengths[k]! < length) this.fail(child, `has ${childLengths[k]} values but its sparse union "${c.path}" has ${length}`);
      });
    }
    for (const child of c.children) this.visit(child);
  }

  private badTypeId(c: Column, l: { declared: string }, i: number, id: number): never {
    const signed = id > 127 ? id - 256 : id;
    return this.fail(c, `slot ${i} has type id ${signed}, which is not one of the declared type ids ${l.declared}`);
  }

  private sparseSlots(c: Column, l: { childOf: Int8Array; declared: string }, length: number, typesAt: number): void {
    const body = this.body;
    const { childOf } = l;
    for (let i = 0; i < length; i++) {
      const id = body[typesAt + i]!;
      if (id > 127 || childOf[id]! < 0) this.badTypeId(c, l, i, id);
    }
  }

  private denseSlots(
    c: Column,
    l: { childOf: Int8Array; declared: string },
    length: number,
    typesAt: number,
    offsets: Int32s,
    childLengths: number[],
  ): void {
    const body = this.body;
    const { childOf } = l;
    for (let i = 0; i < length; i++) {
      const id = body[typesAt + i]!;
      const child = id > 127 ? -1 : childOf[id]!;
      if (child < 0) this.badTypeId(c, l, i, id);
      const offset = offsets.get(i);
      if (!(offset >= 0 && offset < childLengths[child]!)) {
        const name = c.children[child]!.path;
        this.fail(c, `dense union offset ${offset} at slot ${i} is out of range for child "${name}" of ${show(childLengths[child]!)} values`);
      }
    }
  }

  private dictionary(c: Column, l: Extract<Layout, { kind: 'dictionary' }>, length: number, nulls: number): void {
    const bitmapAt = this.validity(c, length, nulls);
    const b = this.take();
    const size = this.regionSize[b]!;
    if (size < length * l.width) this.fail(c, `indices buffer holds ${size} bytes but ${length} indices of ${l.width} bytes need ${length * l.width}`);
    const dictionaryLength = this.dictionaryLengths.get(l.id);
    if (dictionaryLength === undefined) {
      this.fail(c, `uses dictionary id ${l.id}, but no dictionary batch with that id came before this batch`);
    }
    if (length === 0) return;
    const bad = firstBadIndex(this.body, this.regionAt[b]!, length, l.width, l.signed, dictionaryLength, bitmapAt);
    if (bad >= 0) {
      const v = intAt(this.view, this.regionAt[b]! + bad * l.width, l.width, l.signed);
      const shown = Number.isNaN(v) ? 'beyond 2^53' : String(v);
      this.fail(c, `index ${shown} at slot ${bad} is outside dictionary ${l.id}, which has ${dictionaryLength} values`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Checks each batch of one upload against the upload's schema and the dictionaries sent so far.
 * Every failure is an INVALID_ARGUMENT whose message names the column and the figures.
 */
export class BatchValidator {
  private readonly columns: readonly Column[];
  private readonly dictionaryColumns: ReadonlyMap<number, Column>;
  private readonly dictionaryLengths = new Map<number, number>();

  /** `schema`: the upload's schema, as apache-arrow decoded it (Message.decode(header).header() as Schema). */
  constructor(schema: Schema) {
    const compiler = new SchemaCompiler();
    this.columns = schema.fields.map((f) => compiler.field(f, null));
    this.dictionaryColumns = compiler.dictionaries;
  }

  /** Validates a DictionaryBatch message (decoded header + its body); remembers the dictionary's length per id (delta batches add to it, non-delta replace it). */
  dictionary(message: Message, body: Uint8Array): void {
    const header = decodeHeader(message, body, MessageHeader.DictionaryBatch, 'dictionary batch') as DictionaryHeaderLike;
    const id = count(header.id);
    const where = `dictionary batch ${show(id)}`;
    const column = this.dictionaryColumns.get(id);
    if (!column) throw invalidArgument(`${where}: no field of the schema uses dictionary id ${String(header.id)} ${CORRUPT}`);
    const previous = this.dictionaryLengths.get(id);
    if (header.isDelta && previous === undefined) {
      throw invalidArgument(`${where}: is a delta, but no dictionary with that id came before it ${CORRUPT}`);
    }
    const length = checkBatch(header.data, body, [column], where, message, this.dictionaryLengths);
    this.dictionaryLengths.set(id, header.isDelta ? previous! + length : length);
  }

  /** Validates a RecordBatch message against the schema and the dictionaries seen so far. */
  recordBatch(message: Message, body: Uint8Array): void {
    const header = decodeHeader(message, body, MessageHeader.RecordBatch, 'record batch') as BatchHeaderLike;
    checkBatch(header, body, this.columns, 'record batch', message, this.dictionaryLengths);
  }
}

/** The message's header, checked to be of the expected kind and to describe this body. */
function decodeHeader(message: Message, body: Uint8Array, kind: MessageHeader, what: string): unknown {
  if (message.headerType !== kind) {
    throw invalidArgument(`expected an Arrow IPC ${what} message, got message type ${String(message.headerType)} (nothing was stored)`);
  }
  if (message.version < MetadataVersion.V4) {
    throw invalidArgument(`Arrow IPC ${what} uses metadata version ${String(message.version)}; only V4 and V5 are supported (nothing was stored)`);
  }
  const bodyLength = count(message.bodyLength);
  if (bodyLength !== body.length) {
    throw invalidArgument(`Arrow IPC ${what} body is ${body.length} bytes but its header announces ${show(bodyLength)} ${CORRUPT}`);
  }
  try {
    return message.header();
  } catch (err) {
    throw invalidArgument(`Arrow IPC ${what} header could not be decoded ${CORRUPT}`, err);
  }
}

/** Checks one batch's data against `columns`; returns its length. */
function checkBatch(
  header: BatchHeaderLike,
  body: Uint8Array,
  columns: readonly Column[],
  where: string,
  message: Message,
  dictionaryLengths: ReadonlyMap<number, number>,
): number {
  const compression = (header.compression ?? null) as { type: number; method: number } | null;
  if (compression !== null) {
    // BodyCompressionMethod.BUFFER (0), the only method the format defines: each buffer compressed on its own.
    if (compression.method !== 0) {
      throw invalidArgument(`${where}: body compression method ${compression.method} is not supported (nothing was stored)`);
    }
    // The compressed regions must lie in the body before they are read; the decompressed ones are then validated as usual.
    const regions = header.buffers.map((b) => ({ offset: count(b.offset), length: count(b.length) }));
    regions.forEach((r, i) => {
      if (!(r.offset + r.length <= body.length)) throw invalidArgument(`${where} buffer ${i} (offset ${show(r.offset)}, length ${show(r.length)}) lies outside the ${body.length}-byte body ${CORRUPT}`);
    });
    const plain = decompressBody(regions, body, compression.type, where);
    header = { length: header.length, nodes: header.nodes, buffers: plain.regions, variadicBufferCounts: header.variadicBufferCounts };
    body = plain.body;
  }
  const rows = count(header.length);
  if (Number.isNaN(rows)) throw invalidArgument(`${where}: invalid length ${String(header.length)} ${CORRUPT}`);
  const walk = new BatchWalk(body, header, where, message.version < MetadataVersion.V5, dictionaryLengths);
  walk.checkShape(columns);
  walk.walk(columns, rows);
  return rows;
}
