/**
 * Arrow IPC files as their writers write them: pyarrow and Arrow C++ put the schema before the
 * first batch and in the footer, Arrow JS only in the footer. Both read the same, through the
 * messages every reader streams and through the file layout the SQL engine reads itself.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Dictionary, Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { arrowSource } from '../../src/catalog/sources/arrow-ipc.js';
import { encapsulate } from '../../src/ipc/message.js';
import { DEFAULT_SQL_SETTINGS, SqlEngine } from '../../src/sql/engine.js';
import { collect, toTable } from '../helpers/datasets.js';
import { tempDir } from '../helpers/server.js';
import { tableFromIPC } from 'apache-arrow';

const dir = tempDir('fg-arrow-files-');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, threads: 1, memoryLimit: '128MB' });
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const N = 3000;
const table = new Table({
  id: vectorFromArray(Array.from({ length: N }, (_, i) => i), new Int32()),
  label: vectorFromArray(Array.from({ length: N }, (_, i) => `label-${i % 7}`), new Dictionary(new Utf8(), new Int32())),
  text: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 5 ? `row ${i}` : null)), new Utf8()),
});

test('an Arrow JS file (schema in the footer only) reads like any other: messages, counts and SQL', async () => {
  const file = join(dir, 'from-js.arrow');
  writeFileSync(file, tableToIPC(table, 'file'));
  const ds = await arrowSource.open('from_js', file);
  assert.deepEqual((await ds.schema()).fields.map((f) => f.name), ['id', 'label', 'text']);
  assert.equal((await ds.stats()).records, N);
  const back = toTable(await collect(ds));
  assert.equal(back.numRows, N);
  assert.deepEqual(back.toArray().map((r) => r.toJSON()), table.toArray().map((r) => r.toJSON()));
  const run = await engine.query({ owner: 't', tables: [{ name: 'from_js', dataset: ds }], sql: "SELECT count(*) AS n, count(DISTINCT label) AS l, count(text) AS t FROM from_js" });
  const parts: Uint8Array[] = [];
  for await (const m of run.messages()) {
    parts.push(encapsulate(m));
    m.release?.();
  }
  const r = tableFromIPC(Buffer.concat(parts)).toArray()[0]!.toJSON() as Record<string, bigint>;
  assert.deepEqual([Number(r.n), Number(r.l), Number(r.t)], [N, 7, N - N / 5]);
});
