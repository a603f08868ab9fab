/**
 * The SQL engine by itself: a statement sees exactly the tables it is given, even with other
 * statements running beside it; data of every supported type comes back as it went in, through
 * the streaming feed and through the engine's own file reads; files changed under the engine
 * fail cleanly; and the limits hold.
 */
import assert from 'node:assert/strict';
import { openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  Bool, DateDay, Dictionary, Field, Float64, Int16, Int32, Int64, List, RecordBatch, RecordBatchStreamWriter, Struct, Table, TimestampMicrosecond, Uint8, Utf8,
  tableFromArrays, tableFromIPC, vectorFromArray,
} from 'apache-arrow';
import { TableProvider } from '../../src/catalog/table-provider.js';
import { arrowSource } from '../../src/catalog/sources/arrow-ipc.js';
import type { Dataset } from '../../src/catalog/dataset.js';
import { encapsulate } from '../../src/ipc/message.js';
import { DEFAULT_SQL_SETTINGS, SqlEngine, type SqlTable } from '../../src/sql/engine.js';
import { StatementCache } from '../../src/sql/statement-cache.js';
import { tempDir } from '../helpers/server.js';
import { rejectsWith } from '../helpers/assertions.js';

const dir = tempDir('fg-engine-');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, tempDirectory: join(dir, 'spill'), maxConcurrentQueriesPerPrincipal: 2, maxStatementBytes: 4096 });
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const N = 5000;
const typed = new Table({
  id: vectorFromArray(Array.from({ length: N }, (_, i) => BigInt(i)), new Int64()),
  small: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 9 === 0 ? null : i % 300)), new Int16()),
  u8: vectorFromArray(Array.from({ length: N }, (_, i) => i % 256), new Uint8()),
  f: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : i / 3)), new Float64()),
  flag: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)), new Bool()),
  name: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : `name-${i % 41}-${'x'.repeat(i % 20)}`)), new Utf8()),
  day: vectorFromArray(Array.from({ length: N }, (_, i) => new Date(Date.UTC(2020, 0, 1 + (i % 400)))), new DateDay()),
  at: vectorFromArray(Array.from({ length: N }, (_, i) => 1_600_000_000_000 + i * 1000), new TimestampMicrosecond('UTC')),
  tags: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 4 === 0 ? null : [`t${i % 3}`, `u${i % 2}`])), new List(new Field('item', new Utf8(), true))),
  point: vectorFromArray(Array.from({ length: N }, (_, i) => ({ x: i, y: i % 3 === 0 ? null : `p${i}` })), new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)])),
});

const memory = new TableProvider('memory', () => ({ typed, other: tableFromArrays({ secret: Int32Array.from([42]) }) }));
const ds = async (name: string): Promise<Dataset> => (await memory.find(name))!;

async function run(sql: string, tables: SqlTable[], owner = 'tester'): Promise<Table> {
  const q = await engine.query({ owner, tables, sql });
  const parts: Uint8Array[] = [];
  for await (const m of q.messages()) {
    parts.push(encapsulate(m));
    m.release?.();
  }
  return tableFromIPC(Buffer.concat(parts));
}

const rows = (t: Table): unknown[] => JSON.parse(JSON.stringify(t.toArray(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));


test('every supported type comes back as it went in, from memory (streaming feed) and from a file (engine reads)', async () => {
  const file = join(dir, 'typed.arrows');
  writeFileSync(file, RecordBatchStreamWriter.writeAll(typed).toUint8Array(true));
  const fromFile = await arrowSource.open('typed', file);
  assert.ok(await fromFile.fileLayout!(), 'an IPC file has a layout the engine reads itself');
  const viaFeed = await run('SELECT * FROM typed ORDER BY id', [{ name: 'typed', dataset: await ds('typed') }]);
  const viaFile = await run('SELECT * FROM typed ORDER BY id', [{ name: 'typed', dataset: fromFile }]);
  assert.deepEqual(viaFeed.schema.fields.map((f) => f.name), typed.schema.fields.map((f) => f.name));
  assert.deepEqual(rows(viaFeed), rows(typed));
  assert.deepEqual(rows(viaFile), rows(typed));
  const agg = await run('SELECT count(*) AS n, count(name) AS names, sum(small) AS s FROM typed', [{ name: 'typed', dataset: fromFile }]);
  let small = 0;
  for (const v of typed.getChild('small')!) small += (v as number | null) ?? 0;
  assert.equal(Number(agg.getChild('n')!.get(0)), N);
  assert.equal(Number(agg.getChild('names')!.get(0)), N - Math.ceil(N / 7));
  assert.equal(Number(agg.getChild('s')!.get(0)), small);
});

test('a statement sees only its own tables, with another statement running beside it', async () => {
  const stop = new AbortController();
  const heavy = engine.query({ owner: 'a', tables: [{ name: 'typed', dataset: await ds('typed') }], sql: 'SELECT count(*) FROM typed x, typed y, typed z WHERE x.f * y.f * z.f < -1', signal: stop.signal });
  heavy.catch(() => undefined);
  const other = await ds('other');
  await rejectsWith(run('SELECT * FROM typed', [{ name: 'other', dataset: other }], 'b'), 'INVALID_ARGUMENT', /does not exist/);
  await rejectsWith(run("SELECT * FROM flightgate_scan('s1')", [{ name: 'other', dataset: other }], 'b'), 'INVALID_ARGUMENT', /not available/);
  assert.deepEqual(rows(await run('SELECT table_name FROM information_schema.tables', [{ name: 'other', dataset: other }], 'b')), [{ table_name: 'other' }]);
  stop.abort();
  await rejectsWith(heavy, 'CANCELLED', /cancelled/);
});

test('a file changed after it was indexed fails the query cleanly', async () => {
  const file = join(dir, 'changing.arrows');
  const t = new Table({ name: vectorFromArray(Array.from({ length: 3000 }, (_, i) => `value-${i}`), new Utf8()) });
  writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
  const d = await arrowSource.open('changing', file);
  const tables = [{ name: 'changing', dataset: d }];
  assert.equal(rows(await run('SELECT count(name) AS n FROM changing', tables))[0] !== undefined, true);
  // Overwrite the string offsets in place, keeping size and time: the layout cached for this version is now wrong.
  const before = statSync(file);
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from('value-0'));
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xff), 0, 4096, at - 4096 * 2 > 0 ? at - 4096 * 2 : 200);
  closeSync(fd);
  utimesSync(file, before.atime, before.mtime);
  await rejectsWith(run('SELECT max(name) FROM changing', tables), 'INVALID_ARGUMENT', /corrupt batch|changed/);
  // The engine is still serving.
  assert.deepEqual(rows(await run('SELECT 41 + 1 AS x', [])), [{ x: 42 }]);
});

test('columns a scan read are served from memory afterwards, within the cache budget, and a file rewritten in place is not read again', async () => {
  const file = join(dir, 'cached.arrows');
  const t = new Table({
    id: vectorFromArray(Array.from({ length: 4000 }, (_, i) => i), new Int32()),
    name: vectorFromArray(Array.from({ length: 4000 }, (_, i) => `cached-${i}`), new Utf8()),
  });
  writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
  // A whole second, so that the time can be put back exactly: the version stays the same.
  utimesSync(file, 1_700_000_000, 1_700_000_000);
  const d = await arrowSource.open('cached', file);
  const tables = [{ name: 'cached', dataset: d }];
  const held = engine.scanCacheBytes;
  const first = rows(await run('SELECT max(name) AS m, sum(id)::BIGINT AS s FROM cached', tables));
  assert.deepEqual(first, [{ m: 'cached-999', s: String((3999 * 4000) / 2) }]);
  assert.ok(engine.scanCacheBytes > held, 'the columns read are cached');
  // The same size and time, other bytes: the version in memory (validated when read) is what is served.
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from('cached-0'));
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(64, 0x7a), 0, 64, at);
  closeSync(fd);
  utimesSync(file, 1_700_000_000, 1_700_000_000);
  assert.deepEqual(rows(await run('SELECT max(name) AS m, sum(id)::BIGINT AS s FROM cached', tables)), first);
  // An engine without a cache reads the file each time, and sees the change.
  const uncached = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, scanCacheBytes: 0 });
  try {
    const q = await uncached.query({ owner: 'x', tables, sql: "SELECT count(*) AS n FROM cached WHERE name LIKE 'zzz%'" });
    const parts: Uint8Array[] = [];
    for await (const m of q.messages()) parts.push(encapsulate(m));
    assert.equal(Number(tableFromIPC(Buffer.concat(parts)).getChild('n')!.get(0)), 8);
    assert.equal(uncached.scanCacheBytes, 0);
  } finally {
    await uncached.close();
  }
  // A budget smaller than the columns: what fits is kept (id, 16 kB), what does not is read each time.
  const small = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, scanCacheBytes: 20_000 });
  try {
    for (let i = 0; i < 2; i++) {
      const q = await small.query({ owner: 'x', tables, sql: 'SELECT max(name) AS m, sum(id)::BIGINT AS s FROM cached' });
      for await (const m of q.messages()) m.release?.();
    }
    // id's 16 kB (and what DuckDB made of them) is in; name's 59 kB would not fit.
    assert.ok(small.scanCacheBytes >= 16_000 && small.scanCacheBytes <= 20_000, `${small.scanCacheBytes} bytes held`);
  } finally {
    await small.close();
  }
});

test('a full scan cache gives way to the tables read since: the least recently used goes, and is read from its file again', async () => {
  const make = (name: string): string => {
    const file = join(dir, `${name}.arrows`);
    const t = tableFromArrays({ id: Int32Array.from({ length: 50_000 }, (_, i) => i), name: Array.from({ length: 50_000 }, (_, i) => `${name}-${i % 1000}`) });
    writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    return file;
  };
  // Rewrites the first name ('lru_a-0') in place, same size and time: only a read of the file sees it.
  const scribble = (file: string): void => {
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('zzzzzzz'), 0, 7, readFileSync(file).indexOf(Buffer.from('lru_a-0')));
    closeSync(fd);
    utimesSync(file, 1_700_000_000, 1_700_000_000);
  };
  const fileA = make('lru_a');
  const fileB = make('lru_b');
  const a = [{ name: 'lru_a', dataset: await arrowSource.open('lru_a', fileA) }];
  const b = [{ name: 'lru_b', dataset: await arrowSource.open('lru_b', fileB) }];
  // Room for one table's columns and vectors (about 1.2 MB each), not two.
  const small = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, scanCacheBytes: 1.8e6 });
  const max = async (tables: SqlTable[], table: string, owner = 'x'): Promise<string> => {
    const q = await small.query({ owner, tables, sql: `SELECT max(name) AS m, count(*) AS n FROM ${table}` });
    const parts: Uint8Array[] = [];
    for await (const m of q.messages()) parts.push(encapsulate(m));
    return String(tableFromIPC(Buffer.concat(parts)).getChild('m')!.get(0));
  };
  try {
    assert.equal(await max(a, 'lru_a'), 'lru_a-999');
    const holdsA = small.scanCacheBytes;
    assert.ok(holdsA > 1e6 && holdsA <= 1.8e6, `${holdsA}`);
    scribble(fileA);
    assert.equal(await max(a, 'lru_a'), 'lru_a-999', 'a, cached, is served from memory');
    assert.equal(await max(b, 'lru_b'), 'lru_b-999');
    assert.ok(small.scanCacheBytes <= 1.8e6, `${small.scanCacheBytes}`);
    // a was evicted for b: read again from its file, where the change now shows.
    assert.equal(await max(a, 'lru_a'), 'zzzzzzz');
    // Both at once, over and over: each evicts the other while it is being read, and every answer is right.
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? max(b, 'lru_b', `r${i % 8}`) : max(a, 'lru_a', `r${i % 8}`))));
    answers.forEach((m, i) => assert.equal(m, i % 2 ? 'lru_b-999' : 'zzzzzzz'));
    assert.ok(small.scanCacheBytes <= 1.8e6, `${small.scanCacheBytes}`);
  } finally {
    await small.close();
  }
});

test('a dozen statements at once on a file nobody read yet race to fill the caches, and every one gets the right answer', async () => {
  const file = join(dir, 'raced.arrows');
  const parts = Array.from({ length: 8 }, (_, b) =>
    tableFromArrays({ id: Int32Array.from({ length: 50_000 }, (_, i) => b * 50_000 + i), name: Array.from({ length: 50_000 }, (_, i) => `r${(b * 50_000 + i) % 977}`) }),
  );
  const schema = parts[0]!.schema;
  const batches = parts.flatMap((t) => t.batches.map((b) => new RecordBatch(schema, b.data)));
  writeFileSync(file, RecordBatchStreamWriter.writeAll(new Table(schema, batches)).toUint8Array(true));
  const tables = [{ name: 'raced', dataset: await arrowSource.open('raced', file) }];
  const n = 400_000;
  const sql = "SELECT sum(id)::BIGINT AS s, count(*) FILTER (WHERE name = 'r5') AS fives, max(name) AS m FROM raced";
  const expected = { s: String((n * (n - 1)) / 2), fives: String(Math.ceil((n - 5) / 977)), m: 'r99' };
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => run(sql, tables, `racer-${i % 6}`)));
  for (const a of answers) assert.deepEqual(rows(a), [expected]);
  // And again, from the caches.
  for (const a of await Promise.all(Array.from({ length: 12 }, (_, i) => run(sql, tables, `racer-${i % 6}`)))) assert.deepEqual(rows(a), [expected]);
  assert.equal(engine.activeStatements, 0);
});

test('a result expected small is computed whole; one that outgrows the budget meanwhile streams instead, complete and correct', async () => {
  const file = join(dir, 'big.arrows');
  const n = 6_000_000;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(i);
  const t = tableFromArrays({ id: ids });
  writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
  const tables = [{ name: 'big', dataset: await arrowSource.open('big', file) }];
  // 24 MB: a filter the planner cannot estimate is taken to keep a fifth (9.6 MB here); this one keeps it all (48 MB).
  const small = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, materializeBelowBytes: 24e6 });
  try {
    const collect = async (sql: string): Promise<{ table: Table; materialized: boolean }> => {
      const q = await small.query({ owner: 'x', tables, sql });
      const parts: Uint8Array[] = [];
      for await (const m of q.messages()) {
        parts.push(encapsulate(m));
        m.release?.();
      }
      return { table: tableFromIPC(Buffer.concat(parts)), materialized: q.materialized };
    };
    // As GetFlightInfo does: described first (the result's width), then run.
    for (const sql of ['SELECT id FROM big WHERE id % 100 = 7', 'SELECT id FROM big WHERE id >= 0', 'SELECT id FROM big']) await small.describe({ owner: 'x', tables, sql });
    const few = await collect('SELECT id FROM big WHERE id % 100 = 7');
    assert.equal(few.materialized, true);
    assert.equal(few.table.numRows, n / 100);
    const all = await collect('SELECT id FROM big WHERE id >= 0');
    assert.equal(all.materialized, false, 'given up for streaming');
    assert.equal(all.table.numRows, n);
    let sum = 0n;
    for (const v of all.table.getChild('id')!) sum += v as bigint;
    assert.equal(sum, BigInt(n) * BigInt(n - 1) / 2n);
    const whole = await collect('SELECT id FROM big');
    assert.equal(whole.materialized, false, 'expected large: streamed from the start');
    assert.equal(whole.table.numRows, n);
    // Released bodies come back: ~90 batches arrive in a handful of ArrayBuffers, not one each.
    const q = await small.query({ owner: 'x', tables, sql: 'SELECT id FROM big' });
    const arrays = new Set<ArrayBufferLike>();
    let batches = 0;
    for await (const m of q.messages()) {
      if (m.body.length) {
        arrays.add(m.body.buffer);
        batches++;
      }
      m.release?.();
    }
    assert.ok(batches > 50 && arrays.size <= 8, `${batches} batches in ${arrays.size} ArrayBuffers`);
  } finally {
    await small.close();
  }
});

test('kept connections and shapes follow the caller and the tables: another owner, other grants or a changed schema never reuse them', async () => {
  const withOther = [{ name: 'typed', dataset: await ds('typed') }, { name: 'other', dataset: await ds('other') }];
  const withoutOther = [{ name: 'typed', dataset: await ds('typed') }];
  const sql = 'SELECT sum(secret)::INTEGER AS s FROM other';
  for (let i = 0; i < 3; i++) assert.deepEqual(rows(await run(sql, withOther, 'alice')), [{ s: 42 }]);
  // The same text from someone without the table, and from alice herself with fewer grants.
  await rejectsWith(run(sql, withoutOther, 'bob'), 'INVALID_ARGUMENT', /other/);
  await rejectsWith(engine.describe({ owner: 'bob', tables: withoutOther, sql }), 'INVALID_ARGUMENT', /other/);
  await rejectsWith(run(sql, withoutOther, 'alice'), 'INVALID_ARGUMENT', /other/);
  assert.deepEqual(rows(await run(sql, withOther, 'alice')), [{ s: 42 }]);
  // A dataset of the same name with other columns: a new shape, not the remembered one.
  const v1 = new TableProvider('v1', () => ({ shifting: tableFromArrays({ a: Int32Array.from([1]) }) }));
  const v2 = new TableProvider('v2', () => ({ shifting: tableFromArrays({ a: Int32Array.from([1]), b: Float64Array.from([2.5]) }) }));
  const shape = async (p: TableProvider): Promise<string[]> =>
    (await engine.describe({ owner: 'alice', tables: [{ name: 'shifting', dataset: (await p.find('shifting'))! }], sql: 'SELECT * FROM shifting' })).schema.fields.map((f) => f.name);
  assert.deepEqual(await shape(v1), ['a']);
  assert.deepEqual(await shape(v1), ['a']);
  assert.deepEqual(await shape(v2), ['a', 'b']);
  assert.deepEqual(await shape(v1), ['a']);
  // A crowd of owners, each leaving a connection behind: at most 16 are kept.
  await Promise.all(Array.from({ length: 30 }, (_, i) => run('SELECT count(*) AS n FROM typed', withoutOther, `crowd-${i % 15}-${i}`).catch(() => undefined)));
  assert.ok(engine.idleConnections <= 16, `${engine.idleConnections} idle connections`);
});

test('checked statements are kept within their bounds: a thousand distinct statements leave at most the newest', () => {
  const cache = new StatementCache(100, 64 * 1024);
  for (let i = 0; i < 1000; i++) cache.set(`SELECT ${i} AS x`, { mentioned: new Set() });
  assert.equal(cache.size, 100);
  assert.ok(cache.get('SELECT 999 AS x') && !cache.get('SELECT 0 AS x'), 'the least recently used went first');
  for (let i = 0; i < 100; i++) cache.set(`SELECT '${'y'.repeat(2000)}', ${i}`, { mentioned: new Set() });
  assert.ok(cache.size < 40, `${cache.size} entries of 2 kB in a 64 kB cache`);
});

test('limits: statement size, statements per principal, deadline, cancellation', async () => {
  const tables = [{ name: 'typed', dataset: await ds('typed') }];
  await rejectsWith(engine.query({ owner: 'x', tables, sql: `SELECT ${'1 + '.repeat(2000)}1` }), 'INVALID_ARGUMENT', /sql\.maxStatementBytes allows 4096/);
  // One statement per query, so that nothing rides along with one (into the planner's EXPLAIN, say).
  await rejectsWith(engine.query({ owner: 'x', tables, sql: 'SELECT 1; SELECT 2' }), 'INVALID_ARGUMENT', /one statement per query/);
  await rejectsWith(engine.describe({ owner: 'x', tables, sql: 'SELECT count(*) FROM typed; SELECT 2' }), 'INVALID_ARGUMENT', /one statement per query/);
  const slow = 'SELECT count(*) FROM typed x, typed y, typed z WHERE x.f * y.f * z.f < -1';
  const stop = new AbortController();
  const a = engine.query({ owner: 'busy', tables, sql: slow, signal: stop.signal });
  const b = engine.query({ owner: 'busy', tables, sql: slow, signal: stop.signal });
  a.catch(() => undefined);
  b.catch(() => undefined);
  await rejectsWith(engine.query({ owner: 'busy', tables, sql: 'SELECT 1' }), 'RESOURCE_EXHAUSTED', /sql\.maxConcurrentQueriesPerPrincipal allows 2/);
  stop.abort();
  await rejectsWith(a, 'CANCELLED', /cancelled/);
  await rejectsWith(b, 'CANCELLED', /cancelled/);
  const started = Date.now();
  await rejectsWith(
    (async () => {
      const q = await engine.query({ owner: 'late', tables, sql: slow, deadline: Date.now() + 300 });
      for await (const m of q.messages()) void m;
    })(),
    'DEADLINE_EXCEEDED',
    /deadline/,
  );
  assert.ok(Date.now() - started < 20_000);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await rejectsWith(
    (async () => {
      const q = await engine.query({ owner: 'gone', tables, sql: slow, signal: controller.signal });
      for await (const m of q.messages()) void m;
    })(),
    'CANCELLED',
    /cancelled/,
  );
  assert.equal(engine.activeStatements, 0);
});

test('dictionary-encoded columns come back as their values, read from IPC files and streamed from memory alike', async () => {
  const words = ['alpha', 'beta', 'gamma', 'delta'];
  const labels = vectorFromArray(Array.from({ length: 3000 }, (_, i) => (i % 6 === 5 ? null : words[i % 4]!)), new Dictionary(new Utf8(), new Int32()));
  const t = new Table({ id: vectorFromArray(Array.from({ length: 3000 }, (_, i) => i), new Int32()), label: labels });
  const file = join(dir, 'dictionary.arrows');
  writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
  const d = await arrowSource.open('dictionary', file);
  const layout = await d.fileLayout!();
  assert.ok(layout && layout.dictionaries.length === 1, 'the dictionary is part of the layout');
  const tables = [{ name: 'dictionary', dataset: d }];
  const got = await run('SELECT id, label FROM dictionary ORDER BY id', tables);
  assert.deepEqual(got.getChild('label')!.toArray().slice(0, 7), ['alpha', 'beta', 'gamma', 'delta', 'alpha', null, 'gamma']);
  const counts = rows(await run('SELECT label, count(*) AS n FROM dictionary GROUP BY label ORDER BY label NULLS LAST', tables));
  const expected = new Map<string | null, number>();
  for (let i = 0; i < 3000; i++) {
    const label = i % 6 === 5 ? null : words[i % 4]!;
    expected.set(label, (expected.get(label) ?? 0) + 1);
  }
  assert.deepEqual(counts, [...expected].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : 1)).map(([label, n]) => ({ label, n: String(n) })));
  const streamed = new TableProvider('m', () => ({ dictionary: t }));
  const fromMemory = [{ name: 'dictionary', dataset: (await streamed.find('dictionary'))! }];
  assert.deepEqual(rows(await run('SELECT id, label FROM dictionary ORDER BY id', fromMemory)), rows(got));
  assert.deepEqual(rows(await run('SELECT label, count(*) AS n FROM dictionary GROUP BY label ORDER BY label NULLS LAST', fromMemory)), counts);
});

test('a hundred statements at once from ten principals: each runs correctly or is refused by a limit, and nothing leaks', async () => {
  const tables = [{ name: 'typed', dataset: await ds('typed') }];
  const outcomes = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => run('SELECT count(*) AS n, sum(id) AS s FROM typed', tables, `owner-${i % 10}`)),
  );
  let ran = 0;
  for (const o of outcomes) {
    if (o.status === 'fulfilled') {
      ran++;
      assert.equal(Number(o.value.getChild('n')!.get(0)), N);
      assert.equal(Number(o.value.getChild('s')!.get(0)), (N * (N - 1)) / 2);
    } else {
      assert.ok(o.reason instanceof Error && /RESOURCE_EXHAUSTED|sql\.maxConcurrentQueries/.test(`${(o.reason as { statusName?: string }).statusName} ${o.reason.message}`), String(o.reason));
    }
  }
  assert.ok(ran >= 16, `at least a full engine's worth ran (${ran})`);
  assert.equal(engine.activeStatements, 0);
  assert.equal(rows(await run('SELECT 1 AS one', []))[0] !== undefined, true);
});
