import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvSource } from '../../src/catalog/sources/csv.js';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { summarize, type IpcMessage } from '../../src/ipc/message.js';
import { col, collect, toTable } from '../helpers/datasets.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-csv-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function kinds(messages: IpcMessage[]): string[] {
  return messages.map((m) => summarize(m.header).kind);
}

async function rejectsWith(p: Promise<unknown>, status: number, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FlightgateError, `expected a FlightgateError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.match(err.message, pattern);
    return true;
  });
}

test('infers int64, float64, bool and utf8 columns, with empty fields as nulls', async () => {
  const path = file(
    'types.csv',
    [
      'id,price,flag,name,edge,big,mixed,blank',
      '1,1.5,true,alpha,9223372036854775807,9223372036854775808,12,',
      '-2,1e3,FALSE,,-9223372036854775808,1,x,',
      ',-.25,,gamma,,,,',
      '4,7,True,delta,0,-2.5E-3,3.5,',
    ].join('\n') + '\n',
  );
  const ds = await csvSource.open('types', path);
  assert.equal(ds.kind, 'csv');
  const schema = await ds.schema();
  assert.deepEqual(
    schema.fields.map((f) => [f.name, String(f.type)]),
    [
      ['id', 'Int64'],
      ['price', 'Float64'],
      ['flag', 'Bool'],
      ['name', 'Utf8'],
      ['edge', 'Int64'],
      // 2^63 does not fit in int64, so the column is float64.
      ['big', 'Float64'],
      ['mixed', 'Utf8'],
      ['blank', 'Utf8'],
    ],
  );
  assert.deepEqual(await ds.stats(), { records: 4, bytes: -1 });

  const t = toTable(await collect(ds));
  assert.deepEqual(col(t, 'id'), [1n, -2n, null, 4n]);
  assert.deepEqual(col(t, 'price'), [1.5, 1000, -0.25, 7]);
  assert.deepEqual(col(t, 'flag'), [true, false, null, true]);
  assert.deepEqual(col(t, 'name'), ['alpha', null, 'gamma', 'delta']);
  assert.deepEqual(col(t, 'edge'), [2n ** 63n - 1n, -(2n ** 63n), null, 0n]);
  assert.deepEqual(col(t, 'big'), [2 ** 63, 1, null, -0.0025]);
  assert.deepEqual(col(t, 'mixed'), ['12', 'x', null, '3.5']);
  assert.deepEqual(col(t, 'blank'), [null, null, null, null]);
  assert.equal(t.getChild('id')!.nullCount, 1);
});

test('handles quoted fields with commas, quotes and newlines, CRLF line ends and a BOM', async () => {
  const path = file(
    'quoted.csv',
    '\ufeffkey,"text, quoted"\r\n' + '1,"a, b"\r\n' + '2,"say ""hi"""\r\n' + '3,"line1\r\nline2"\r\n' + '\r\n' + '4,plain\r\n',
  );
  const ds = await csvSource.open('quoted', path);
  const schema = await ds.schema();
  assert.deepEqual(
    schema.fields.map((f) => f.name),
    ['key', 'text, quoted'],
  );
  const t = toTable(await collect(ds));
  assert.deepEqual(col(t, 'key'), [1n, 2n, 3n, 4n]);
  assert.deepEqual(col(t, 'text, quoted'), ['a, b', 'say "hi"', 'line1\r\nline2', 'plain']);
});

test('a ragged row is INVALID_ARGUMENT naming the file and line', async () => {
  const path = file('ragged.csv', 'a,b,c\n1,2,3\n4,5\n6,7,8\n');
  await rejectsWith(csvSource.open('ragged', path), Status.INVALID_ARGUMENT, /ragged\.csv line 3: wrong number of fields.*expect 3, got 2/);
});

test('malformed quoting is INVALID_ARGUMENT naming the file', async () => {
  const path = file('badquote.csv', 'a,b\n1,"unterminated\n');
  await rejectsWith(csvSource.open('badquote', path), Status.INVALID_ARGUMENT, /badquote\.csv is not valid CSV: .*[Qq]uote/);
});

test('an empty file is INVALID_ARGUMENT', async () => {
  await rejectsWith(csvSource.open('empty', file('empty.csv', '')), Status.INVALID_ARGUMENT, /empty\.csv is empty.*header/);
  await rejectsWith(csvSource.open('blank', file('blank.csv', '\n\n')), Status.INVALID_ARGUMENT, /blank\.csv is empty/);
});

test('a header-only file is a valid dataset with no rows and utf8 columns', async () => {
  const ds = await csvSource.open('header', file('header.csv', 'x,y\r\n'));
  const schema = await ds.schema();
  assert.deepEqual(
    schema.fields.map((f) => [f.name, String(f.type)]),
    [
      ['x', 'Utf8'],
      ['y', 'Utf8'],
    ],
  );
  assert.deepEqual(await ds.stats(), { records: 0, bytes: -1 });
  const messages = await collect(ds);
  assert.deepEqual(kinds(messages), ['schema']);
  assert.equal(toTable(messages).numRows, 0);
});

test('a large file streams as batches of 65536 rows, with exact stats, and can be read twice', async () => {
  const rows = 65536 * 2 + 5;
  const lines = ['n,half,label'];
  for (let i = 0; i < rows; i++) lines.push(`${i},${i / 2},${i % 7 === 0 ? '' : `r${i}`}`);
  const ds = await csvSource.open('large', file('large.csv', lines.join('\n')));
  assert.deepEqual(await ds.stats(), { records: rows, bytes: -1 });
  for (let pass = 0; pass < 2; pass++) {
    const messages = await collect(ds);
    assert.deepEqual(kinds(messages), ['schema', 'recordBatch', 'recordBatch', 'recordBatch']);
    assert.deepEqual(
      messages.slice(1).map((m) => summarize(m.header).rows),
      [65536, 65536, 5],
    );
    const t = toTable(messages);
    assert.equal(t.numRows, rows);
    const n = t.getChild('n')!;
    const half = t.getChild('half')!;
    const label = t.getChild('label')!;
    assert.equal(String(half.type), 'Float64');
    for (const i of [0, 1, 65535, 65536, 131072, rows - 1]) {
      assert.equal(n.get(i), BigInt(i));
      assert.equal(half.get(i), i / 2);
      assert.equal(label.get(i), i % 7 === 0 ? null : `r${i}`);
    }
  }
});

test('schema and stats follow the file when it changes', async () => {
  const path = file('changing.csv', 'a\n1\n2\n');
  const ds = await csvSource.open('changing', path);
  assert.equal(String((await ds.schema()).fields[0]!.type), 'Int64');
  // A different size guarantees a different cache key even if mtime resolution is coarse.
  writeFileSync(path, 'a\nx\ny\nz\n');
  assert.equal(String((await ds.schema()).fields[0]!.type), 'Utf8');
  assert.deepEqual(await ds.stats(), { records: 3, bytes: -1 });
  assert.deepEqual(col(toTable(await collect(ds)), 'a'), ['x', 'y', 'z']);
});
