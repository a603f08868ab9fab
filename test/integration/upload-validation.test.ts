/**
 * Uploads are validated before they are stored: batches whose buffers lie (offsets past the data,
 * a bitmap that disagrees with its null count, dictionary indices past the dictionary, a list
 * running past its child, a struct child shorter than the struct) are refused with
 * INVALID_ARGUMENT naming the column, and the dataset is left exactly as it was, so a read-only
 * user's pyarrow can always read it. pyarrow sends the corrupt batches (its arrays wrap memory that
 * can change after pyarrow checked it, which is how the attack was made); apache-arrow sends the
 * struct case, whose lengths pyarrow would not let through.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Field, Int32, makeData, RecordBatch, Schema, Struct, tableFromArrays } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { descriptors, FlightClient } from '../../src/flight/client/flight-client.js';

import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
const env = { FLIGHTGATE_REGISTRY_CACHE_MS: '0', FLIGHTGATE_AUDIT_FILE: '/dev/null' };
let server: CliServer;

before(async () => {
  server = await startCliServer(['--demo', '--data-dir', dir], env);
  const r = await runCli(['users', 'add', 'reader', '--role', 'demo-db1-reader', '--password-stdin', '--data-dir', dir], env, 'reader-password\n');
  assert.equal(r.code, 0, r.stderr);
  // The reader may read every uploaded dataset of this test.
  for (const args of [['roles', 'create', 'uploads'], ['roles', 'grant', 'uploads', '--dataset', 'up_*', '--action', 'read'], ['roles', 'assign', 'uploads', 'reader']]) {
    const x = await runCli([...args, '--data-dir', dir], env);
    assert.equal(x.code, 0, x.stderr);
  }
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const PYARROW_ATTACKS = String.raw`
import json, struct, sys
import pyarrow as pa
import pyarrow.flight as fl

uri = sys.argv[1]
writer_client = fl.FlightClient(uri)
w = fl.FlightCallOptions(headers=[writer_client.authenticate_basic_token(b"admin", b"admin123")])
reader_client = fl.FlightClient(uri)
r = fl.FlightCallOptions(headers=[reader_client.authenticate_basic_token(b"reader", b"reader-password")])

def cmd(name, mode):
    return fl.FlightDescriptor.for_command(json.dumps({"dataset": name, "mode": mode}))

def put(name, mode, batch):
    writer, _ = writer_client.do_put(cmd(name, mode), batch.schema, options=w)
    writer.write_batch(batch)
    writer.close()

def read(name):
    info = reader_client.get_flight_info(fl.FlightDescriptor.for_path(name), options=r)
    t = reader_client.do_get(info.endpoints[0].ticket, options=r).read_all()
    t.validate(full=True)
    return t

def mutable(fmt, *values):
    return bytearray(struct.pack(fmt, *values))

# Each attack: a valid batch whose memory is changed after pyarrow has checked it.
def bad_offsets():
    offsets = mutable('<4i', 0, 2, 4, 6)
    b = pa.record_batch({"s": pa.Array.from_buffers(pa.utf8(), 3, [None, pa.py_buffer(offsets), pa.py_buffer(b"aabbcc")])})
    offsets[12:16] = struct.pack('<i', 1 << 20)
    return b, "s"

def bad_validity():
    bitmap = bytearray([0b101])
    b = pa.record_batch({"n": pa.Array.from_buffers(pa.int32(), 3, [pa.py_buffer(bitmap), pa.py_buffer(struct.pack('<3i', 1, 2, 3))], null_count=1)})
    bitmap[0] = 0b111
    return b, "n"

def bad_dictionary():
    indices = mutable('<3i', 0, 1, 0)
    d = pa.DictionaryArray.from_arrays(pa.Array.from_buffers(pa.int32(), 3, [None, pa.py_buffer(indices)]), pa.array(["x", "y"]))
    b = pa.record_batch({"d": d})
    indices[4:8] = struct.pack('<i', 1_000_000)
    return b, "d"

def bad_list():
    offsets = mutable('<3i', 0, 1, 2)
    lst = pa.Array.from_buffers(pa.list_(pa.int64()), 2, [None, pa.py_buffer(offsets)], children=[pa.array([1, 2], pa.int64())])
    b = pa.record_batch({"l": lst})
    offsets[8:12] = struct.pack('<i', 5000)
    return b, "l"

results = {}
for attack in (bad_offsets, bad_validity, bad_dictionary, bad_list):
    batch, column = attack()
    name = "up_" + attack.__name__
    # A first, valid upload to append to.
    if attack is bad_offsets:
        put(name, "create", pa.record_batch({"s": pa.array(["ok"])}))
    elif attack is bad_validity:
        put(name, "create", pa.record_batch({"n": pa.array([7], pa.int32())}))
    elif attack is bad_dictionary:
        put(name, "create", pa.record_batch({"d": pa.array(["x"]).dictionary_encode().cast(pa.dictionary(pa.int32(), pa.utf8()))}))
    else:
        put(name, "create", pa.record_batch({"l": pa.array([[9]], pa.list_(pa.int64()))}))
    before = read(name).to_pylist()
    try:
        put(name, "append", batch)
        outcome = "stored"
    except (fl.FlightError, pa.ArrowException) as e:
        outcome = type(e).__name__ + ": " + str(e).split(". gRPC")[0]
    after = read(name).to_pylist()
    results[attack.__name__] = {"outcome": outcome, "column": column, "unchanged": before == after}
print(json.dumps(results))
`;

test('pyarrow: appends with corrupt offsets, validity, dictionary indices or list offsets are refused, naming the column; the dataset stays readable and unchanged', async () => {
  const py = await runPython(['-c', PYARROW_ATTACKS, server.uri]);
  assert.equal(py.code, 0, py.stderr);
  const results = JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, { outcome: string; column: string; unchanged: boolean }>;
  assert.deepEqual(Object.keys(results).sort(), ['bad_dictionary', 'bad_list', 'bad_offsets', 'bad_validity']);
  for (const [attack, r] of Object.entries(results)) {
    assert.match(r.outcome, /^FlightServerError|^ArrowInvalid|Invalid/i, `${attack}: ${r.outcome}`);
    assert.match(r.outcome, new RegExp(`column "${r.column}"`), `${attack}: ${r.outcome}`);
    assert.match(r.outcome, /nothing was stored/, attack);
    assert.equal(r.unchanged, true, `${attack}: the dataset changed`);
  }
  assert.match(results.bad_offsets!.outcome, /offsets end at 1048576 but the data buffer holds 6 bytes/);
  assert.match(results.bad_validity!.outcome, /null count is 1 but the validity bitmap has 0 nulls/);
  assert.match(results.bad_dictionary!.outcome, /index 1000000 at slot 1 is outside dictionary/);
  assert.match(results.bad_list!.outcome, /offsets end at 5000 but child column "l\.item" has 2 values/);
});

test('apache-arrow: a struct whose child is shorter than the struct is refused, and nothing is stored', async () => {
  const client = new FlightClient(server.uri);
  try {
    await client.login('admin', 'admin123');
    const schema = new Schema([new Field('s', new Struct([new Field('a', new Int32(), true)]), true)]);
    const shortChild = makeData({ type: new Int32(), length: 2, data: new Int32Array([1, 2]) });
    const struct = makeData({ type: schema.fields[0]!.type, length: 3, nullCount: 0, children: [shortChild] });
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 3, nullCount: 0, children: [struct] }));
    await assert.rejects(
      client.doPut(descriptors.path('up_struct'), [batch], { schema }),
      (e: unknown) => e instanceof FlightgateError && e.statusName === 'INVALID_ARGUMENT' && /column "s\.a".*has 2 values but its struct "s" has 3/.test(e.message),
    );
    await assert.rejects(client.getFlightInfo('up_struct'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'NOT_FOUND', 'a refused create leaves no dataset');
    // A valid upload of the same shape goes through.
    const good = tableFromArrays({ n: new Int32Array([1, 2, 3]) });
    await client.doPut(descriptors.path('up_ok'), good);
    assert.equal((await client.readTable('up_ok')).numRows, 3);
  } finally {
    await client.close();
  }
});
