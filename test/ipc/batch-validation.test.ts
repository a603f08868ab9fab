/**
 * BatchValidator against real IPC streams: pyarrow's (and apache-arrow's) batches of every type
 * pass; batches whose buffers disagree with their metadata, as a hostile or buggy client could
 * send them, are refused with INVALID_ARGUMENT naming the column, before anything is stored.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Bool,
  DataType,
  Dictionary,
  Field,
  Float16,
  Float64,
  Int8,
  Int32,
  List,
  makeData,
  Message,
  MessageHeader,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  Type,
  Uint32,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import {
  BufferRegion,
  DictionaryBatch as DictionaryBatchHeader,
  FieldNode,
  RecordBatch as RecordBatchHeader,
} from 'apache-arrow/ipc/metadata/message';
import { numbersBatch } from '../../src/catalog/demo.js';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { BatchValidator } from '../../src/ipc/batch-validation.js';
import { decodeSchema, EOS, framedHeader, splitIpcStream, summarize } from '../../src/ipc/message.js';
import { assertPython, PYTHON } from '../helpers/python.js';

// ---------------------------------------------------------------------------------------------
// Streams written by pyarrow, once for the whole file.

const PYARROW_STREAMS = String.raw`
import sys, os, datetime, decimal
import pyarrow as pa
import pyarrow.ipc as ipc

out = sys.argv[1]

def save(name, batches, **opts):
    with open(os.path.join(out, name + '.arrows'), 'wb') as f:
        with ipc.new_stream(f, batches[0].schema, options=ipc.IpcWriteOptions(**opts)) as w:
            for b in batches:
                w.write_batch(b)

N = 12

def col(values, typ, nulls):
    return pa.array([None if nulls and i % 3 == 1 else v for i, v in enumerate(values)], typ)

def all_types(nulls):
    r = range(N)
    c = {}
    for t in ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']:
        c[t] = col(list(r), getattr(pa, t)(), nulls)
    c['float32'] = col([i / 2 for i in r], pa.float32(), nulls)
    c['float64'] = col([i / 3 for i in r], pa.float64(), nulls)
    c['bool'] = col([i % 2 == 0 for i in r], pa.bool_(), nulls)
    c['utf8'] = col(['é' * i + 'x' for i in r], pa.utf8(), nulls)
    c['large_utf8'] = col(['ünï' * (i % 4) for i in r], pa.large_utf8(), nulls)
    c['binary'] = col([bytes([i]) * i for i in r], pa.binary(), nulls)
    c['large_binary'] = col([bytes([255 - i]) * (i % 5) for i in r], pa.large_binary(), nulls)
    c['utf8_view'] = col(['short' if i % 2 else 'a string longer than twelve bytes, ü %d' % i for i in r], pa.string_view(), nulls)
    c['binary_view'] = col([b'\xff' * (i * 3) for i in r], pa.binary_view(), nulls)
    c['list'] = col([list(range(i % 4)) for i in r], pa.list_(pa.int32()), nulls)
    c['large_list'] = col([['x' * j for j in range(i % 3)] for i in r], pa.large_list(pa.utf8()), nulls)
    c['fixed_size_list'] = col([[i, None if nulls and i % 2 else i + 1, i + 2] for i in r], pa.list_(pa.int32(), 3), nulls)
    c['struct'] = col([{'a': i, 'b': None if nulls and i % 4 == 0 else 's%d' % i} for i in r],
                      pa.struct([('a', pa.int32()), ('b', pa.utf8())]), nulls)
    c['map'] = col([[('k%d' % j, j) for j in range(i % 3)] for i in r], pa.map_(pa.utf8(), pa.int64()), nulls)
    c['dict'] = col([['red', 'green', 'blue'][i % 3] for i in r], pa.utf8(), nulls).dictionary_encode()
    c['dict8'] = pa.DictionaryArray.from_arrays(col([i % 3 for i in r], pa.int8(), nulls), pa.array(['a', 'b', 'c']))
    c['dict_u16'] = pa.DictionaryArray.from_arrays(col([i % 2 for i in r], pa.uint16(), nulls), pa.array([1.5, 2.5]))
    c['dict64'] = pa.DictionaryArray.from_arrays(col([i % 2 for i in r], pa.int64(), nulls), pa.array(['p', 'q']))
    c['list_dict'] = pa.ListArray.from_arrays(pa.array([2 * i for i in range(N + 1)], pa.int32()),
                                              pa.array(['u', 'v'] * N).dictionary_encode())
    c['dense_union'] = pa.UnionArray.from_dense(
        pa.array([i % 2 for i in r], pa.int8()), pa.array([i // 2 for i in r], pa.int32()),
        [col(list(range(N // 2)), pa.int64(), nulls), pa.array(['d%d' % i for i in range(N // 2)])], ['i', 's'])
    c['sparse_union'] = pa.UnionArray.from_sparse(
        pa.array([5 if i % 2 else 9 for i in r], pa.int8()),
        [col(list(r), pa.int64(), nulls), pa.array(['s%d' % i for i in r])], ['i', 's'], [5, 9])
    c['timestamp'] = col([datetime.datetime(2024, 1, 1) + datetime.timedelta(hours=i) for i in r], pa.timestamp('us', tz='UTC'), nulls)
    c['date32'] = col([datetime.date(2024, 1, 1 + i) for i in r], pa.date32(), nulls)
    c['date64'] = col([datetime.date(2024, 2, 1 + i) for i in r], pa.date64(), nulls)
    c['time32'] = col([i * 1000 for i in r], pa.time32('ms'), nulls)
    c['time64'] = col([i * 1000 for i in r], pa.time64('ns'), nulls)
    c['duration'] = col(list(r), pa.duration('s'), nulls)
    c['interval'] = col([pa.MonthDayNano([i, i, i]) for i in r], pa.month_day_nano_interval(), nulls)
    c['decimal128'] = col([decimal.Decimal(i) / 100 for i in r], pa.decimal128(10, 2), nulls)
    c['decimal256'] = col([decimal.Decimal(i) / 10 for i in r], pa.decimal256(40, 1), nulls)
    c['fixed_size_binary'] = col([bytes([i]) * 4 for i in r], pa.binary(4), nulls)
    c['null'] = pa.nulls(N)
    return pa.record_batch(c)

full = all_types(True)
save('all_nulls', [full])
save('all_no_nulls', [all_types(False)])
save('all_sliced', [full.slice(2, 7), full.slice(5, 1)])
save('all_empty', [full.slice(0, 0)])
save('all_v4', [full], metadata_version=ipc.MetadataVersion.V4)
save('compressed_lz4', [full], compression='lz4')
save('compressed_zstd', [full], compression='zstd')
# Corrupt inside the compression: utf8 offsets past the data, which only decompressing can find.
import struct
for codec in ('lz4', 'zstd'):
    raw_offsets = bytearray(struct.pack('<3i', 0, 3, 6))
    batch = pa.record_batch({'name': pa.Array.from_buffers(pa.utf8(), 2, [None, pa.py_buffer(raw_offsets), pa.py_buffer(b'abcdef')])})
    # pyarrow validates what it is given; the memory it wraps can still change afterwards.
    raw_offsets[8:12] = struct.pack('<i', 1000)
    save('compressed_bad_' + codec, [batch], compression=codec)

# Small streams that the corruption tests rewrite.
save('strings', [pa.record_batch({'name': pa.array(['alpha', 'beta', None, 'delta'])})])
save('accents', [pa.record_batch({'name': pa.array(['é', 'ü', None, 'ñ'])})])
save('large_strings', [pa.record_batch({'name': pa.array(['alpha', 'beta', None, 'delta'], pa.large_utf8())})])
save('tags', [pa.record_batch({'tags': pa.array([[1, 2], [3], None, [4, 5, 6]], pa.list_(pa.int32()))})])
save('struct', [pa.record_batch({'s': pa.array([{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}, None],
                                               pa.struct([('a', pa.int32()), ('b', pa.utf8())]))})])
save('dict', [pa.record_batch({'color': pa.array(['red', 'green', None, 'red', 'blue']).dictionary_encode()})])
save('dense', [pa.record_batch({'u': pa.UnionArray.from_dense(pa.array([0, 1, 0], pa.int8()), pa.array([0, 0, 1], pa.int32()),
                                                               [pa.array([1, 2]), pa.array(['a'])], ['i', 's'])})])
save('sparse', [pa.record_batch({'u': pa.UnionArray.from_sparse(pa.array([0, 1, 0], pa.int8()),
                                                                [pa.array([1, 2, 3]), pa.array(['a', 'b', 'c'])], ['i', 's'])})])
save('views', [pa.record_batch({'v': pa.array(['tiny', 'this one is longer than twelve', None], pa.string_view())})])
save('fsl', [pa.record_batch({'f': pa.array([[1, 2], [3, 4], [5, 6]], pa.list_(pa.int16(), 2))})])
save('map', [pa.record_batch({'m': pa.array([[('a', 1)], [('b', 2), ('c', 3)]], pa.map_(pa.utf8(), pa.int64()))})])
save('ints', [pa.record_batch({'n': pa.array([1, 2, None, 4], pa.int64())})])
save('dict_widths', [pa.record_batch({
    'd8': pa.DictionaryArray.from_arrays(pa.array([0, None, 1], pa.int8()), pa.array(['a', 'b'])),
    'du16': pa.DictionaryArray.from_arrays(pa.array([1, 0, None], pa.uint16()), pa.array(['a', 'b'])),
    'd64': pa.DictionaryArray.from_arrays(pa.array([None, 1, 0], pa.int64()), pa.array(['a', 'b'])),
})])
save('wide', [pa.record_batch({'n': pa.array([None if i % 5 == 0 else i for i in range(20)], pa.int32())})])

# Dictionaries that change between batches: a delta, and a replacement.
d1 = pa.DictionaryArray.from_arrays(pa.array([0, 1, 1], pa.int32()), pa.array(['a', 'b']))
d2 = pa.DictionaryArray.from_arrays(pa.array([2, 0, 3], pa.int32()), pa.array(['a', 'b', 'c', 'd']))
d3 = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.array(['z']))
save('dict_delta', [pa.record_batch({'d': d1}), pa.record_batch({'d': d2})], emit_dictionary_deltas=True)
save('dict_replace', [pa.record_batch({'d': d2}), pa.record_batch({'d': d3})])

# Types apache-arrow 21 cannot decode.
save('ree', [pa.record_batch({'r': pa.RunEndEncodedArray.from_arrays(pa.array([2, 5], pa.int32()), pa.array(['a', 'b']))})])
save('list_view', [pa.record_batch({'lv': pa.array([[1], [2, 3]], pa.list_view(pa.int32()))})])
`;

/** Reads back streams and validates them fully with pyarrow; prints the paths it refused. */
const PYARROW_VALIDATE = String.raw`
import sys
import pyarrow.ipc as ipc
for p in open(sys.argv[1]).read().split():
    try:
        ipc.open_stream(open(p, 'rb').read()).read_all().validate(full=True)
    except Exception as e:
        print(p, str(e)[:200])
`;

let dir: string;

before(() => {
  assertPython();
  dir = mkdtempSync(join(tmpdir(), 'batch-validation-'));
  execFileSync(PYTHON, ['-c', PYARROW_STREAMS, dir], { stdio: 'pipe' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Helpers.

interface Msg {
  readonly kind: 'dictionary' | 'recordBatch';
  readonly message: Message;
  readonly body: Uint8Array;
}
interface Stream {
  readonly schema: Schema;
  readonly messages: Msg[];
}

function parse(bytes: Uint8Array): Stream {
  const [first, ...rest] = splitIpcStream(bytes);
  const schema = decodeSchema(first!.header);
  const messages = rest.map((m): Msg => {
    const s = summarize(m.header);
    assert.notEqual(s.kind, 'schema');
    return { kind: s.kind as Msg['kind'], message: s.decoded, body: m.body };
  });
  return { schema, messages };
}

const load = (name: string): Stream => parse(new Uint8Array(readFileSync(join(dir, `${name}.arrows`))));

function validate(stream: Stream, messages: readonly Msg[] = stream.messages): void {
  const v = new BatchValidator(stream.schema);
  for (const m of messages) {
    if (m.kind === 'dictionary') v.dictionary(m.message, m.body);
    else v.recordBatch(m.message, m.body);
  }
}

function refused(fn: () => void, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FlightgateError, `expected a FlightgateError, got ${String(err)}`);
    assert.equal(err.status, Status.INVALID_ARGUMENT);
    assert.match(err.message, pattern);
    assert.match(err.message, /nothing was stored\)$/);
    return true;
  });
}

/** The stream with its message `index` (counting after the schema) replaced. */
const replace = (stream: Stream, index: number, m: Msg): Msg[] => stream.messages.map((x, i) => (i === index ? m : x));

const lastBatch = (stream: Stream): number => stream.messages.length - 1;

/** The metadata of a record batch, or of a dictionary batch's data. */
function batchHeader(m: Msg): RecordBatchHeader {
  const h = m.message.header() as RecordBatchHeader | DictionaryBatchHeader;
  return h instanceof DictionaryBatchHeader ? h.data : h;
}

interface HeaderEdit {
  length?: number;
  nodes?: (nodes: FieldNode[]) => void;
  buffers?: (buffers: BufferRegion[]) => void;
  variadic?: number[];
  id?: number;
  isDelta?: boolean;
  bodyLength?: number;
}

/** The message with edited metadata, encoded as a real flatbuffer and decoded again. */
function editHeader(m: Msg, edit: HeaderEdit): Msg {
  const h = batchHeader(m);
  const nodes = h.nodes.map((n) => new FieldNode(n.length, n.nullCount));
  const buffers = h.buffers.map((b) => new BufferRegion(b.offset, b.length));
  edit.nodes?.(nodes);
  edit.buffers?.(buffers);
  const batch = new RecordBatchHeader(edit.length ?? h.length, nodes, buffers, h.compression, edit.variadic ?? h.variadicBufferCounts);
  let header: RecordBatchHeader | DictionaryBatchHeader = batch;
  if (m.kind === 'dictionary') {
    const d = m.message.header() as DictionaryBatchHeader;
    header = new DictionaryBatchHeader(batch, edit.id ?? d.id, edit.isDelta ?? d.isDelta);
  }
  const message = Message.decode(Message.encode(Message.from(header, edit.bodyLength ?? m.body.length)));
  return { kind: m.kind, message, body: m.body };
}

/** The message with a copy of its body changed by `edit`, given the body's buffer regions. */
function editBody(m: Msg, edit: (view: DataView, buffers: BufferRegion[], bytes: Uint8Array) => void): Msg {
  const bytes = new Uint8Array(m.body);
  edit(new DataView(bytes.buffer), batchHeader(m).buffers, bytes);
  return { ...m, body: bytes };
}

/** The same bytes, starting `shift` bytes past an 8-byte boundary (as inside a protobuf). */
function misaligned(body: Uint8Array, shift: number): Uint8Array {
  const out = new Uint8Array(body.length + shift).subarray(shift);
  out.set(body);
  return out;
}

function streamBytes(schemaHeader: Uint8Array, messages: readonly { header: Uint8Array; body: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [framedHeader(schemaHeader)];
  for (const m of messages) parts.push(framedHeader(m.header), m.body);
  parts.push(EOS);
  return Buffer.concat(parts);
}

/** A deterministic generator, so that a failing case can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

// ---------------------------------------------------------------------------------------------

describe('valid batches pass', () => {
  const VALID = [
    'all_nulls', 'all_no_nulls', 'all_sliced', 'all_empty', 'all_v4', 'strings', 'accents', 'large_strings', 'tags',
    'struct', 'dict', 'dense', 'sparse', 'views', 'fsl', 'map', 'ints', 'wide', 'dict_widths', 'dict_delta', 'dict_replace',
  ];
  for (const name of VALID) {
    test(`pyarrow stream ${name}`, () => validate(load(name)));
  }

  test('the all-types stream holds every type it should', () => {
    const { schema } = load('all_nulls');
    const ids = new Set(schema.fields.map((f) => f.type.typeId));
    for (const t of [
      Type.Int, Type.Float, Type.Bool, Type.Utf8, Type.LargeUtf8, Type.Binary, Type.LargeBinary, Type.Utf8View,
      Type.BinaryView, Type.List, Type.LargeList, Type.FixedSizeList, Type.Struct, Type.Map, Type.Dictionary,
      Type.Union, Type.Timestamp, Type.Date, Type.Time, Type.Duration, Type.Interval, Type.Decimal,
      Type.FixedSizeBinary, Type.Null,
    ]) {
      assert.ok(ids.has(t), `no column of type ${Type[t]}`);
    }
    const unions = schema.fields.filter((f) => f.type.typeId === Type.Union).map((f) => (f.type as unknown as { mode: number }).mode);
    assert.deepEqual(unions.sort(), [0, 1]); // sparse and dense
  });

  test('bodies at any alignment (read through a DataView where not aligned)', () => {
    for (const name of ['all_nulls', 'all_sliced', 'dict_delta']) {
      const stream = load(name);
      for (const shift of [1, 2, 3, 4, 6]) {
        validate(stream, stream.messages.map((m) => ({ ...m, body: misaligned(m.body, shift) })));
      }
    }
  });

  test('the body is only read', () => {
    const stream = load('all_nulls');
    const before = stream.messages.map((m) => Buffer.from(m.body));
    validate(stream);
    stream.messages.forEach((m, i) => assert.ok(before[i]!.equals(m.body)));
  });

  test('a delta dictionary adds to the dictionary, a replacement replaces it', () => {
    const delta = load('dict_delta');
    assert.deepEqual(delta.messages.map((m) => m.kind), ['dictionary', 'recordBatch', 'dictionary', 'recordBatch']);
    assert.equal((delta.messages[2]!.message.header() as DictionaryBatchHeader).isDelta, true);
    // Without the delta the second batch's indices 2 and 3 point past the two values sent.
    refused(() => validate(delta, [delta.messages[0]!, delta.messages[1]!, delta.messages[3]!]), /column "d".*index 2 at slot 0 is outside dictionary 0, which has 2 values/);

    const replaced = load('dict_replace');
    assert.equal((replaced.messages[2]!.message.header() as DictionaryBatchHeader).isDelta, false);
    // After the one-value replacement, the first batch (indices up to 3) no longer fits.
    const [d4, b1, d1] = replaced.messages;
    refused(() => validate(replaced, [d4!, b1!, d1!, b1!]), /index 2 at slot 0 is outside dictionary 0, which has 1 values/);
  });

  test('batches written by apache-arrow, whole and sliced', () => {
    const table = new Table({
      i8: vectorFromArray([1, -2, null], new Int8()),
      u32: vectorFromArray([1, 2, 3], new Uint32()),
      f64: vectorFromArray([1.5, null, 3.5], new Float64()),
      half: vectorFromArray([1, null, 3], new Float16()),
      flag: vectorFromArray([true, null, false], new Bool()),
      s: vectorFromArray(['a', 'bé', null], new Utf8()),
      word: vectorFromArray(['x', null, 'x'], new Dictionary(new Utf8(), new Int32())),
      list: vectorFromArray([[1], [], null], new List(new Field('item', new Int32(), true))),
    });
    for (const t of [table, table.slice(1, 3)]) validate(parse(RecordBatchStreamWriter.writeAll(t).toUint8Array(true)));
  });
});

describe('corrupt batches are refused', () => {
  test('utf8 last offset past the end of the data buffer', () => {
    const s = load('strings');
    const bad = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 4 * 4, 1000, true));
    refused(() => validate(s, [bad]), /column "name" \(Utf8\): offsets end at 1000 but the data buffer holds \d+ bytes/);
  });

  test('decreasing offsets', () => {
    const s = load('strings');
    const bad = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 2 * 4, 1, true));
    refused(() => validate(s, [bad]), /column "name".*offset 2 is 1, less than offset 1 \(5\): offsets must not decrease/);
  });

  test('a negative first offset', () => {
    const s = load('strings');
    const bad = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset, -8, true));
    refused(() => validate(s, [bad]), /column "name".*first offset is -8/);
  });

  test('large_utf8 offsets beyond 2^53', () => {
    const s = load('large_strings');
    const bad = editBody(s.messages[0]!, (v, b) => v.setBigInt64(b[1]!.offset + 4 * 8, 1n << 60n, true));
    refused(() => validate(s, [bad]), /column "name" \(LargeUtf8\): offset 4 is 1152921504606846976, beyond 2\^53/);
    const past = editBody(s.messages[0]!, (v, b) => v.setBigInt64(b[1]!.offset + 4 * 8, 99n, true));
    refused(() => validate(s, [past]), /column "name".*offsets end at 99/);
  });

  test('invalid UTF-8 in a utf8 column', () => {
    const s = load('strings');
    const bad = editBody(s.messages[0]!, (_, b, bytes) => (bytes[b[2]!.offset + 1] = 0xff));
    refused(() => validate(s, [bad]), /column "name".*invalid UTF-8/);
    // Overlong and surrogate encodings are not UTF-8 either.
    const a = load('accents');
    const overlong = editBody(a.messages[0]!, (_, b, bytes) => bytes.set([0xc0, 0x80], b[2]!.offset));
    refused(() => validate(a, [overlong]), /column "name".*invalid UTF-8/);
  });

  test('an offset that starts a value inside a UTF-8 character', () => {
    // Whole-range valid text, cut between the two bytes of "é": each value on its own is not UTF-8.
    const word = makeData({ type: new Utf8(), length: 2, nullCount: 0, valueOffsets: Int32Array.of(0, 1, 4), data: Uint8Array.of(0xc3, 0xa9, 0xc3, 0xa9) });
    const schema = new Schema([new Field('word', new Utf8(), false)]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children: [word] }));
    const s = parse(RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true));
    refused(() => validate(s), /column "word".*value 1 starts at byte 1, inside a UTF-8 character/);
  });

  test('validity bitmap too short, or missing with nulls', () => {
    const s = load('wide');
    const short = editHeader(s.messages[0]!, { buffers: (b) => (b[0]!.length = 1) });
    refused(() => validate(s, [short]), /column "n" \(Int32\): validity bitmap holds 1 bytes but 20 values need 3/);
    const none = editHeader(s.messages[0]!, { buffers: (b) => (b[0]!.length = 0) });
    refused(() => validate(s, [none]), /column "n".*null count is 4 but there is no validity bitmap/);
  });

  test('null count that does not match the bitmap', () => {
    const s = load('strings');
    const wrong = editHeader(s.messages[0]!, { nodes: (n) => (n[0]!.nullCount = 2) });
    refused(() => validate(s, [wrong]), /column "name".*null count is 2 but the validity bitmap has 1 nulls/);
    const flipped = editBody(s.messages[0]!, (_, b, bytes) => (bytes[b[0]!.offset] ^= 0b0001));
    refused(() => validate(s, [flipped]), /column "name".*null count is 1 but the validity bitmap has 2 nulls/);
    const tooMany = editHeader(s.messages[0]!, { nodes: (n) => (n[0]!.nullCount = 9) });
    refused(() => validate(s, [tooMany]), /column "name".*null count 9 exceeds the length 4/);
    const negative = editHeader(s.messages[0]!, { nodes: (n) => (n[0]!.nullCount = -1) });
    refused(() => validate(s, [negative]), /column "name".*the field node has an invalid null count/);
  });

  test('fixed-width data buffer too short', () => {
    const s = load('ints');
    const bad = editHeader(s.messages[0]!, { buffers: (b) => (b[1]!.length = 8) });
    refused(() => validate(s, [bad]), /column "n" \(Int64\): data buffer holds 8 bytes but 4 values of 8 bytes need 32/);
  });

  test('a column whose length differs from the batch', () => {
    const s = load('strings');
    const bad = editHeader(s.messages[0]!, { length: 5 });
    refused(() => validate(s, [bad]), /column "name".*has 4 values but the batch has 5 rows/);
  });

  test('dictionary index past the end of the dictionary', () => {
    const s = load('dict'); // dictionary [red, green, blue], indices [0, 1, null, 0, 2]
    const past = editBody(s.messages[1]!, (v, b) => v.setInt32(b[1]!.offset, 3, true));
    refused(() => validate(s, replace(s, 1, past)), /column "color" \(Dictionary<Int32, Utf8>\): index 3 at slot 0 is outside dictionary 0, which has 3 values/);
    const negative = editBody(s.messages[1]!, (v, b) => v.setInt32(b[1]!.offset + 4 * 4, -1, true));
    refused(() => validate(s, replace(s, 1, negative)), /column "color".*index -1 at slot 4/);
    // A null slot's index is never looked up, so it may hold anything.
    const nullSlot = editBody(s.messages[1]!, (v, b) => v.setInt32(b[1]!.offset + 2 * 4, 99, true));
    validate(s, replace(s, 1, nullSlot));
  });

  test('dictionary indices of other widths, aligned or not', () => {
    const s = load('dict_widths'); // d8, du16, d64: two buffers each, over dictionaries of 2 values
    const rb = lastBatch(s);
    const columns: [string, number, (v: DataView, at: number) => void][] = [
      ['d8', 1, (v, at) => v.setInt8(at, 5)],
      ['du16', 3, (v, at) => v.setUint16(at, 5, true)],
      ['d64', 5, (v, at) => v.setBigInt64(at + 8, 5n, true)],
    ];
    for (const [name, buffer, write] of columns) {
      const bad = editBody(s.messages[rb]!, (v, b) => write(v, b[buffer]!.offset));
      for (const shift of [0, 1, 2, 4]) {
        const moved = { ...bad, body: misaligned(bad.body, shift) };
        refused(() => validate(s, replace(s, rb, moved)), new RegExp(`column "${name}".*index 5 at slot \\d is outside dictionary \\d+, which has 2 values`));
      }
    }
    const huge = editBody(s.messages[rb]!, (v, b) => v.setBigInt64(b[5]!.offset + 8, 1n << 62n, true));
    refused(() => validate(s, replace(s, rb, huge)), /column "d64".*index beyond 2\^53 at slot 1/);
  });

  test('a record batch using a dictionary that was never sent', () => {
    const s = load('dict');
    refused(() => validate(s, [s.messages[1]!]), /column "color".*uses dictionary id 0, but no dictionary batch with that id came before this batch/);
  });

  test('a dictionary batch for an id the schema does not use, or a delta with nothing before it', () => {
    const s = load('dict');
    refused(() => validate(s, [editHeader(s.messages[0]!, { id: 7 })]), /dictionary batch 7: no field of the schema uses dictionary id 7/);
    refused(() => validate(s, [editHeader(s.messages[0]!, { isDelta: true })]), /dictionary batch 0: is a delta, but no dictionary with that id came before it/);
  });

  test('a corrupt dictionary batch is checked like a column', () => {
    const s = load('dict');
    const bad = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 3 * 4, 500, true));
    refused(() => validate(s, [bad]), /dictionary batch 0, column "color" \(Utf8\): offsets end at 500/);
  });

  test('a list child too short for the last offset', () => {
    const s = load('tags'); // [[1, 2], [3], null, [4, 5, 6]]: six child values
    const past = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 4 * 4, 9, true));
    refused(() => validate(s, [past]), /column "tags" \(List<Int32>\): offsets end at 9 but child column "tags.item" has 6 values/);
    const shortChild = editHeader(s.messages[0]!, { nodes: (n) => (n[1]!.length = 4) });
    refused(() => validate(s, [shortChild]), /column "tags".*offsets end at 6 but child column "tags.item" has 4 values/);
  });

  test('a struct child shorter than the struct', () => {
    const s = load('struct');
    const bad = editHeader(s.messages[0]!, { nodes: (n) => (n[2]!.length = 2) });
    refused(() => validate(s, [bad]), /column "s.b" \(Utf8\): has 2 values but its struct "s" has 3/);
  });

  test('a fixed-size list child too short', () => {
    const s = load('fsl');
    const bad = editHeader(s.messages[0]!, { nodes: (n) => (n[1]!.length = 5) });
    refused(() => validate(s, [bad]), /column "f.item" \(Int16\): has 5 values but 3 lists of 2 need 6/);
  });

  test('map keys or entries with nulls', () => {
    const s = load('map');
    const keys = editHeader(s.messages[0]!, { nodes: (n) => (n[2]!.nullCount = 1) });
    refused(() => validate(s, [keys]), /column "m.entries.key".*map keys have null count 1; it must be 0/);
    const entries = editHeader(s.messages[0]!, { nodes: (n) => (n[1]!.nullCount = 1) });
    refused(() => validate(s, [entries]), /column "m.entries".*map entries have null count 1/);
  });

  test('wrong node, buffer or variadic counts', () => {
    const s = load('strings');
    refused(() => validate(s, [editHeader(s.messages[0]!, { buffers: (b) => b.pop() })]), /record batch has 2 buffers but the schema needs 3/);
    refused(() => validate(s, [editHeader(s.messages[0]!, { buffers: (b) => b.push(new BufferRegion(0, 0)) })]), /has 4 buffers but the schema needs 3/);
    refused(() => validate(s, [editHeader(s.messages[0]!, { nodes: (n) => n.push(new FieldNode(4, 0)) })]), /has 2 field nodes but the schema needs 1/);
    const v = load('views');
    refused(() => validate(v, [editHeader(v.messages[0]!, { variadic: [] })]), /has 0 variadic buffer counts but the schema has 1 view columns/);
    refused(() => validate(v, [editHeader(v.messages[0]!, { variadic: [2] })]), /has 3 buffers but the schema needs 4/);
  });

  test('a buffer outside the body, or not 8-byte aligned', () => {
    const s = load('strings');
    const length = s.messages[0]!.body.length;
    const outside = editHeader(s.messages[0]!, { buffers: (b) => (b[2]!.offset = length) });
    refused(() => validate(s, [outside]), new RegExp(`buffer 2 \\(offset ${length}, length \\d+\\) lies outside the ${length}-byte body`));
    const negative = editHeader(s.messages[0]!, { buffers: (b) => (b[1]!.offset = -8) });
    refused(() => validate(s, [negative]), /buffer 1 \(offset invalid, length 20\) lies outside the 48-byte body/);
    const huge = editHeader(s.messages[0]!, { buffers: (b) => (b[1]!.length = 2 ** 40) });
    refused(() => validate(s, [huge]), /buffer 1 .* lies outside/);
    const odd = editHeader(s.messages[0]!, { buffers: (b) => (b[2]!.offset += 1) });
    refused(() => validate(s, [odd]), /buffer 2 starts at offset \d+, which is not a multiple of 8/);
  });

  test('a body whose size differs from the header', () => {
    const s = load('strings');
    const m = s.messages[0]!;
    refused(() => validate(s, [{ ...m, body: m.body.subarray(0, m.body.length - 8) }]), /record batch body is \d+ bytes but its header announces \d+/);
  });

  test('compressed batches are validated after decompressing them', () => {
    for (const name of ['compressed_lz4', 'compressed_zstd']) validate(load(name));
    for (const codec of ['lz4', 'zstd']) {
      refused(() => validate(load(`compressed_bad_${codec}`)), /column "name" \(Utf8\): offsets end at 1000 but the data buffer holds 6 bytes/);
      // A frame that does not decode, or that expands past the length it declares, is refused too.
      const s = load(`compressed_${codec === 'lz4' ? 'lz4' : 'zstd'}`);
      const garbled = editBody(s.messages[0]!, (_v, b, bytes) => {
        const r = b.find((x) => x.length > 16)!;
        for (let k = r.offset + 8; k < r.offset + r.length; k++) bytes[k] = (bytes[k]! * 31 + 7) & 0xff;
      });
      refused(() => validate(s, [garbled]), /does not decompress/);
      const inflated = editBody(s.messages[0]!, (_v, b, bytes) => {
        const r = b.find((x) => x.length > 16)!;
        new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(r.offset, 10n ** 12n, true);
      });
      refused(() => validate(s, [inflated]), /declares 1000000000000 uncompressed bytes/);
    }
  });

  test('a union type id that was not declared', () => {
    const sparse = load('sparse');
    const bad = editBody(sparse.messages[0]!, (_, b, bytes) => (bytes[b[0]!.offset + 1] = 7));
    refused(() => validate(sparse, [bad]), /column "u" \(Union<Int64 \| Utf8>\): slot 1 has type id 7, which is not one of the declared type ids \[0, 1\]/);
    const dense = load('dense');
    const negative = editBody(dense.messages[0]!, (_, b, bytes) => (bytes[b[0]!.offset + 2] = 0xff));
    refused(() => validate(dense, [negative]), /column "u".*slot 2 has type id -1/);
  });

  test('a dense union offset out of range', () => {
    const s = load('dense'); // types [0, 1, 0], offsets [0, 0, 1]; children i: 2 values, s: 1 value
    const past = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 4, 5, true));
    refused(() => validate(s, [past]), /column "u".*dense union offset 5 at slot 1 is out of range for child "u.s" of 1 values/);
    const negative = editBody(s.messages[0]!, (v, b) => v.setInt32(b[1]!.offset + 8, -1, true));
    refused(() => validate(s, [negative]), /column "u".*dense union offset -1 at slot 2/);
  });

  test('a sparse union child shorter than the union, or a union with a null count', () => {
    const s = load('sparse');
    refused(() => validate(s, [editHeader(s.messages[0]!, { nodes: (n) => (n[2]!.length = 2) })]), /column "u.s".*has 2 values but its sparse union "u" has 3/);
    refused(() => validate(s, [editHeader(s.messages[0]!, { nodes: (n) => (n[0]!.nullCount = 1) })]), /column "u".*a union has no validity bitmap, so it must be 0/);
  });

  test('string views pointing outside their data buffers', () => {
    const s = load('views'); // view 0 inline, view 1 in data buffer 0, view 2 null
    const views = (b: BufferRegion[]): number => b[1]!.offset;
    const index = editBody(s.messages[0]!, (v, b) => v.setInt32(views(b) + 16 + 8, 3, true));
    refused(() => validate(s, [index]), /column "v" \(Utf8View\): view 1 refers to data buffer 3 but there are 1/);
    const offset = editBody(s.messages[0]!, (v, b) => v.setInt32(views(b) + 16 + 12, 40, true));
    refused(() => validate(s, [offset]), /column "v".*view 1 covers bytes 40 to 70 of data buffer 0, which holds \d+/);
    const prefix = editBody(s.messages[0]!, (_, b, bytes) => (bytes[views(b) + 16 + 4] = 0x21));
    refused(() => validate(s, [prefix]), /column "v".*view 1 has a prefix that differs/);
    const padding = editBody(s.messages[0]!, (_, b, bytes) => (bytes[views(b) + 15] = 1));
    refused(() => validate(s, [padding]), /column "v".*view 0 is inline with 4 bytes but its padding is not zero/);
    const text = editBody(s.messages[0]!, (_, b, bytes) => (bytes[views(b) + 5] = 0xfe));
    refused(() => validate(s, [text]), /column "v".*view 0 holds invalid UTF-8/);
    const length = editBody(s.messages[0]!, (v, b) => v.setInt32(views(b), -3, true));
    refused(() => validate(s, [length]), /column "v".*view 0 has length -3/);
    // The null view is never read.
    validate(s, [editBody(s.messages[0]!, (v, b) => v.setInt32(views(b) + 32 + 8, 99, true))]);
  });

  test('types apache-arrow cannot decode are refused with the schema; unknown type ids are refused', () => {
    for (const name of ['ree', 'list_view']) {
      const [first] = splitIpcStream(new Uint8Array(readFileSync(join(dir, `${name}.arrows`))));
      assert.throws(() => decodeSchema(first!.header), (err: unknown) => err instanceof FlightgateError && err.status === Status.INVALID_ARGUMENT);
    }
    class Mystery extends DataType {
      constructor() {
        super(22 as Type); // RunEndEncoded's id in Schema.fbs; apache-arrow 21 has no class for it
      }
    }
    refused(() => new BatchValidator(new Schema([new Field('x', new Mystery())])), /column "x": unsupported type .*\(type id 22\)/);
  });

  test('the wrong kind of message', () => {
    const s = load('dict');
    const v = new BatchValidator(s.schema);
    assert.equal(s.messages[0]!.message.headerType, MessageHeader.DictionaryBatch);
    assert.throws(() => v.recordBatch(s.messages[0]!.message, s.messages[0]!.body), (err: unknown) => err instanceof FlightgateError && err.status === Status.INVALID_ARGUMENT);
  });
});

describe('fuzzed batches', () => {
  const SMALL = ['strings', 'accents', 'large_strings', 'tags', 'struct', 'dict', 'dense', 'sparse', 'views', 'fsl', 'map', 'wide', 'dict_widths', 'dict_delta'];

  /** One mutation: a few body bytes, or one figure of the metadata. */
  function mutate(stream: Stream, rand: (n: number) => number): Msg[] {
    const target = rand(stream.messages.length);
    const m = stream.messages[target]!;
    let out: Msg;
    if (rand(2) === 0 && m.body.length > 0) {
      out = editBody(m, (_, __, bytes) => {
        for (let k = 1 + rand(3); k > 0; k--) bytes[rand(bytes.length)] = rand(4) === 0 ? 0xff : bytes[rand(bytes.length)]! ^ (1 << rand(8));
      });
    } else {
      const tweak = (x: number): number => [x + 1, x - 1, 0, x * 2, x + 8, -x, 2 ** 31][rand(7)]!;
      out = editHeader(m, {
        nodes: (n) => {
          if (rand(2) === 0 || n.length === 0) return;
          const node = n[rand(n.length)]!;
          if (rand(2) === 0) node.length = tweak(node.length);
          else node.nullCount = tweak(node.nullCount);
        },
        buffers: (b) => {
          if (rand(2) === 0 || b.length === 0) return;
          const region = b[rand(b.length)]!;
          if (rand(2) === 0) region.length = Math.max(0, tweak(region.length));
          else region.offset = tweak(region.offset);
        },
      });
    }
    return replace(stream, target, out);
  }

  test('every failure is INVALID_ARGUMENT, and whatever passes, pyarrow reads and fully validates', (t) => {
    const rand = random(20240611);
    const passed: string[] = [];
    const fuzzDir = join(dir, 'fuzz');
    mkdirSync(fuzzDir);
    let refusedCount = 0;
    for (const name of SMALL) {
      const stream = load(name);
      const [schemaMessage] = splitIpcStream(new Uint8Array(readFileSync(join(dir, `${name}.arrows`))));
      for (let i = 0; i < 300; i++) {
        const messages = mutate(stream, rand);
        try {
          validate(stream, messages);
        } catch (err) {
          assert.ok(err instanceof FlightgateError && err.status === Status.INVALID_ARGUMENT, `${name} #${i}: ${String(err)}`);
          refusedCount++;
          continue;
        }
        const path = join(fuzzDir, `${name}-${i}.arrows`);
        writeFileSync(path, streamBytes(schemaMessage!.header, messages.map((m) => ({ header: Message.encode(m.message), body: m.body }))));
        passed.push(path);
      }
    }
    writeFileSync(join(fuzzDir, 'list.txt'), passed.join('\n'));
    const complaints = execFileSync(PYTHON, ['-c', PYARROW_VALIDATE, join(fuzzDir, 'list.txt')], { encoding: 'utf8' });
    assert.equal(complaints, '', 'pyarrow refused batches the validator accepted');
    t.diagnostic(`fuzz: ${refusedCount} refused, ${passed.length} accepted and confirmed valid by pyarrow`);
  });
});

test('validating a 10M-row batch (int64, float64, 10-byte utf8)', (t) => {
  const rows = 10_000_000;
  const s = parse(RecordBatchStreamWriter.writeAll([numbersBatch(0, rows)]).toUint8Array(true));
  const [m] = s.messages;
  assert.equal(Number(batchHeader(m!).length), rows);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    new BatchValidator(s.schema).recordBatch(m!.message, m!.body);
    times.push(performance.now() - start);
  }
  const line = `10M-row batch (${(m!.body.length / 1e6).toFixed(0)} MB body): first ${times[0]!.toFixed(1)} ms, best ${Math.min(...times).toFixed(1)} ms`;
  t.diagnostic(line);
  console.log(line);
});
