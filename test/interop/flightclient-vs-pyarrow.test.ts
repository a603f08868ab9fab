/** flightgate's TypeScript FlightClient calling every RPC of a pyarrow (C++) Flight server. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeVector, Table, tableFromArrays, Utf8, vectorFromArray, Dictionary, Field, Int32, List, type RecordBatch } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startPython } from '../helpers/python.js';

let child: ChildProcess;
let client: FlightClient;

before(async () => {
  const started = await startPython(['test/interop/py/reference_server.py'], /^listening on (\d+)$/);
  child = started.child;
  client = new FlightClient(`grpc://127.0.0.1:${started.match[1]}`);
});
after(async () => {
  await client?.close();
  child?.kill();
});

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
/** Rows as plain JSON values, comparable with pyarrow's to_pylist(). */
const rows = (t: Table): unknown[] =>
  JSON.parse(JSON.stringify(t.toArray().map((r) => r.toJSON()), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
const pylist = async (name: string): Promise<unknown[]> => JSON.parse(text((await client.doAction('pylist', name))[0]!));

test('ListFlights, GetFlightInfo, GetSchema', async () => {
  const names: string[] = [];
  for await (const info of client.listFlights()) names.push(info.descriptor!.path[0]!);
  assert.deepEqual(names.sort(), ['dict', 'empty', 'large', 'multi', 'nested', 'nulls', 'plain']);
  const info = await client.getFlightInfo('plain');
  assert.equal(info.totalRecords, 3);
  assert.equal(text(info.endpoints[0]!.ticket), 'plain');
  const schema = await client.getSchema('nested');
  assert.deepEqual(schema.fields.map((f) => [f.name, String(f.type)]), [['l', 'List<Int64>'], ['s', 'Struct<{a:Int32, b:Utf8}>']]);
  await assert.rejects(client.getFlightInfo('nope'), (e: unknown) => e instanceof FlightgateError && /no table nope/.test(e.message));
});

test('DoGet of every table matches what pyarrow holds, value by value', async () => {
  for (const name of ['plain', 'dict', 'nested', 'nulls', 'empty', 'multi']) {
    const table = await client.readTable(name);
    assert.deepEqual(rows(table), await pylist(name), name);
  }
  const batches: RecordBatch[] = [];
  for await (const b of client.doGet(Buffer.from('multi'))) batches.push(b);
  assert.equal(batches.length, 5);
  const large = await client.doGet(Buffer.from('large')).readAll();
  assert.equal(large.numRows, 6_000_000);
  assert.equal(Number(large.getChild('n')!.get(5_999_999)), 5_999_999);
});

test('DoPut of dictionary, nested, null-heavy, empty, multi-batch and large tables', async () => {
  const dict = new Table({ d: vectorFromArray(['x', 'y', null, 'x'], new Dictionary(new Utf8(), new Int32())) });
  const nested = new Table({ l: vectorFromArray([[1, 2], [], null, [3]], new List(new Field('item', new Int32(), true))) });
  const nulls = new Table({ t: vectorFromArray([null, 'a', null, null], new Utf8()), i: vectorFromArray([null, null, 7, null], new Int32()) });
  const empty = new Table({ t: vectorFromArray([] as string[], new Utf8()) });
  const multi = new Table([...tableFromArrays({ n: Int32Array.from([1, 2]) }).batches, ...tableFromArrays({ n: Int32Array.from([3]) }).batches]);
  const large = new Table({ n: makeVector(Float64Array.from({ length: 7_000_000 }, (_, i) => i)) });
  for (const [name, table] of Object.entries({ up_dict: dict, up_nested: nested, up_nulls: nulls, up_empty: empty, up_multi: multi, up_large: large })) {
    const [result] = await client.doPut(name, table);
    assert.equal(JSON.parse(text(result!)).rows, table.numRows, name);
    if (name !== 'up_large') assert.deepEqual(await pylist(name), rows(table), name);
    const back = await client.readTable(name);
    assert.equal(back.numRows, table.numRows, name);
    if (name !== 'up_large') assert.deepEqual(rows(back), rows(table), name);
  }
});

test('DoExchange echo, DoAction, ListActions, Handshake and per-call headers', async () => {
  const exchange = client.doExchange('anything');
  const table = tableFromArrays({ a: Int32Array.from([1, 2, 3]), b: ['p', 'q', 'r'] });
  await exchange.write(table);
  exchange.end();
  assert.deepEqual(rows(await exchange.readAll()), rows(table));

  // Metadata first: the schema still goes before the first batch.
  const afterMetadata = client.doExchange('anything');
  await afterMetadata.writeMetadata(Buffer.from('first'));
  await afterMetadata.write(table);
  afterMetadata.end();
  assert.deepEqual(rows(await afterMetadata.readAll()), rows(table));

  assert.equal(text((await client.doAction('echo', 'hello'))[0]!), 'hello');
  const actions = await client.listActions();
  assert.deepEqual(actions.map((a) => a.type), ['echo', 'pylist', 'last_headers', 'slow']);
  assert.equal(actions[0]!.description, 'returns its body');

  const hs = await client.handshake([Buffer.from('hi')]);
  assert.equal(text(hs.payloads[0]!), 'echo:hi');

  await client.doAction('echo', '', { headers: { 'x-trace': 'abc123' } });
  assert.deepEqual(JSON.parse(text((await client.doAction('last_headers'))[0]!)), { 'x-trace': ['abc123'] });
  await assert.rejects(client.doAction('nope'), (e: unknown) => e instanceof FlightgateError && e.status === Status.UNIMPLEMENTED);
});

test('deadlines and cancellation end the call on the client', async () => {
  await assert.rejects(client.doAction('slow', '', { timeoutMs: 200 }), (e: unknown) => e instanceof FlightgateError && e.status === Status.DEADLINE_EXCEEDED);
  const controller = new AbortController();
  const pending = client.doAction('slow', '', { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, (e: unknown) => e instanceof FlightgateError && e.status === Status.CANCELLED);
});
