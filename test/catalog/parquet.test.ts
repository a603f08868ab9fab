import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bool,
  Float64,
  Utf8,
  makeVector,
  tableFromArrays,
  tableToIPC,
  vectorFromArray,
  Table,
} from 'apache-arrow';
import { Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import { parquetSource } from '../../src/catalog/sources/parquet.js';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { summarize } from '../../src/ipc/message.js';
import { col, collect, toTable } from '../helpers/datasets.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-parquet-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 25;
const GROUP = 10;

/** 25 rows over row groups of 10, 10 and 5, with nulls, and a dictionary column. */
function sample(): Table {
  const ids = Array.from({ length: ROWS }, (_, i) => i);
  const rest = tableFromArrays({
    // Arrow JS encodes string arrays as dictionaries: exercises dictionaries across row groups.
    tag: ids.map((i) => (i % 4 === 0 ? null : `t${i % 3}`)),
  });
  return new Table({
    id: makeVector(Int32Array.from(ids)),
    big: makeVector(BigInt64Array.from(ids, (i) => BigInt(i) * 10_000_000_000n)),
    score: vectorFromArray(
      ids.map((i) => (i % 5 === 0 ? null : i / 4)),
      new Float64(),
    ),
    ok: vectorFromArray(
      ids.map((i) => (i % 6 === 0 ? null : i % 2 === 0)),
      new Bool(),
    ),
    name: vectorFromArray(
      ids.map((i) => (i % 7 === 0 ? null : `name-${i}`)),
      new Utf8(),
    ),
    tag: rest.getChild('tag')!,
  });
}

function writeFixture(name: string, table: Table, rowGroupSize: number): string {
  const props = new WriterPropertiesBuilder().setMaxRowGroupSize(rowGroupSize).build();
  const path = join(dir, name);
  writeFileSync(path, writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props));
  return path;
}

async function rejectsInvalid(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FlightgateError, `expected a FlightgateError, got ${String(err)}`);
    assert.equal(err.status, Status.INVALID_ARGUMENT);
    assert.match(err.message, pattern);
    return true;
  });
}

test('reads a multi-row-group file one row group at a time, with the right values', async () => {
  const expected = sample();
  const path = writeFixture('multi.parquet', expected, GROUP);
  const ds = await parquetSource.open('multi', path);
  assert.equal(ds.kind, 'parquet');
  assert.deepEqual(await ds.stats(), { records: ROWS, bytes: -1 });

  const schema = await ds.schema();
  assert.deepEqual(
    schema.fields.map((f) => f.name),
    ['id', 'big', 'score', 'ok', 'name', 'tag'],
  );
  // Decoded types are generic classes (Int_, Float, ...), so compare their names, not classes.
  assert.deepEqual(
    schema.fields.map((f) => String(f.type)),
    ['Int32', 'Int64', 'Float64', 'Bool', 'Utf8', 'Dictionary<Int32, Utf8>'],
  );

  const messages = await collect(ds);
  const summaries = messages.map((m) => summarize(m.header));
  assert.equal(summaries[0]!.kind, 'schema');
  assert.equal(summaries.filter((s) => s.kind === 'schema').length, 1, 'one schema message only');
  assert.deepEqual(
    summaries.filter((s) => s.kind === 'recordBatch').map((s) => s.rows),
    [10, 10, 5],
  );

  const t = toTable(messages);
  assert.equal(t.numRows, ROWS);
  for (const name of ['id', 'big', 'score', 'ok', 'name', 'tag']) {
    assert.deepEqual(col(t, name), col(expected, name), `column ${name}`);
  }
  // Spot-check against literal values too, so a bug shared by writer and reader cannot hide.
  assert.equal(t.getChild('big')!.get(24), 240_000_000_000n);
  assert.equal(t.getChild('score')!.get(5), null);
  assert.equal(t.getChild('score')!.get(6), 1.5);
  assert.equal(t.getChild('name')!.get(13), 'name-13');
  assert.equal(t.getChild('tag')!.get(21), 't0');

  // A second read streams the file again.
  assert.equal(toTable(await collect(ds)).numRows, ROWS);
});

test('an empty table has a schema and no batches', async () => {
  const path = writeFixture('empty.parquet', sample().slice(0, 0), GROUP);
  const ds = await parquetSource.open('empty', path);
  assert.deepEqual(await ds.stats(), { records: 0, bytes: -1 });
  const messages = await collect(ds);
  assert.equal(messages.filter((m) => summarize(m.header).kind === 'recordBatch').length, 0);
  const t = toTable(messages);
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, 6);
});

test('a file that is not Parquet is INVALID_ARGUMENT naming the file', async () => {
  const text = join(dir, 'text.parquet');
  writeFileSync(text, 'id,name\n1,not parquet at all\n');
  await rejectsInvalid(parquetSource.open('text', text), /text\.parquet could not be read as Parquet/);
  const empty = join(dir, 'zero.parquet');
  writeFileSync(empty, '');
  await rejectsInvalid(parquetSource.open('zero', empty), /zero\.parquet could not be read as Parquet/);
});

test('corrupt data pages are INVALID_ARGUMENT, and the process survives the decoder crash', async () => {
  const path = writeFixture('corrupt.parquet', sample(), GROUP);
  const bytes = readFileSync(path);
  // Garble the first row group's pages but keep the footer, so opening succeeds and reading fails.
  for (let i = 4; i < 200; i++) bytes[i]! ^= 0x5a;
  writeFileSync(path, bytes);
  const ds = await parquetSource.open('corrupt', path);
  assert.deepEqual(await ds.stats(), { records: ROWS, bytes: -1 });
  await rejectsInvalid(collect(ds), /corrupt\.parquet.*row group 0/);
  // Still usable afterwards: a good file reads fine.
  const good = await parquetSource.open('good', writeFixture('good.parquet', sample(), GROUP));
  assert.equal(toTable(await collect(good)).numRows, ROWS);
});

test('stopping a read early ends it cleanly', async () => {
  const ds = await parquetSource.open('early', writeFixture('early.parquet', sample(), 5));
  let seen = 0;
  for await (const m of ds.messages()) {
    if (summarize(m.header).kind === 'recordBatch' && ++seen === 2) break;
  }
  assert.equal(seen, 2);
  const controller = new AbortController();
  const it = ds.messages({ signal: controller.signal })[Symbol.asyncIterator]();
  await it.next();
  controller.abort();
  await assert.rejects(async () => {
    for (let r = await it.next(); !r.done; r = await it.next());
  });
});
