/**
 * Files in the data directory come and go under the server: a name whose file vanished answers
 * NOT_FOUND (never INTERNAL), and once a read has found it gone, a file of another format with
 * the same name is served at once.
 */
import assert from 'node:assert/strict';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Int32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { DataDirectory } from '../../src/catalog/data-directory.js';
import { fileSources } from '../../src/catalog/sources/index.js';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir('fg-datadir-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a vanished file is NOT_FOUND, and a file of another format under the same name is served right after', async () => {
  const table = new Table({ id: vectorFromArray([1, 2, 3], new Int32()) });
  writeFileSync(join(dir, 'sales.arrows'), tableToIPC(table, 'stream'));
  const files = new DataDirectory(dir, fileSources);
  await files.load(() => undefined);
  const first = await files.find('sales');
  assert.equal((await first!.stats()).records, 3);
  unlinkSync(join(dir, 'sales.arrows'));
  writeFileSync(join(dir, 'sales.csv'), 'id,name\n1,a\n2,b\n');
  await assert.rejects(first!.schema(), (e: unknown) => e instanceof FlightgateError && e.status === Status.NOT_FOUND && /its file was removed/.test(e.message));
  await new Promise((r) => setTimeout(r, 120)); // finds look at the directory again at most every 100 ms
  const second = await files.find('sales');
  assert.equal(second?.kind, 'csv');
  assert.equal((await second!.stats()).records, 2);
  unlinkSync(join(dir, 'sales.csv'));
  await assert.rejects(second!.stats(), (e: unknown) => e instanceof FlightgateError && e.status === Status.NOT_FOUND);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await files.find('sales'), undefined);
});
