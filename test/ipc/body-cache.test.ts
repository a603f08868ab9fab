/**
 * The DoGet body cache: what it keeps, what it gives up for whom, and that a changed file is
 * never served from what was kept of its old version.
 */
import assert from 'node:assert/strict';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Int32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { BodyCache, fileBodies } from '../../src/ipc/body-cache.js';
import { readIpcMessages } from '../../src/ipc/file-reader.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir('fg-body-cache-');
after(() => {
  fileBodies.configure(0);
  rmSync(dir, { recursive: true, force: true });
});

test('a file is kept while there is room; room is made from the least recently read other files, never from the file itself', () => {
  const cache = new BodyCache(100);
  const a = cache.version('/a', 1, 1);
  const b = cache.version('/b', 1, 1);
  assert.ok(cache.admits(a, 60));
  cache.put(a, 0, Buffer.alloc(60));
  assert.ok(!cache.admits(a, 50), 'a file never evicts itself: a scan larger than the budget keeps its first part');
  assert.ok(cache.admits(b, 30));
  cache.put(b, 0, Buffer.alloc(30));
  assert.equal(cache.size, 90);
  assert.ok(cache.get(a, 0));
  assert.ok(cache.admits(b, 40), 'b may take a\'s room');
  assert.equal(cache.get(a, 0), undefined);
  assert.ok(!cache.admits(b, 101), 'no body larger than the budget');
  const b2 = cache.version('/b', 2, 1);
  assert.equal(cache.get(b, 0), undefined, 'a new version of a file drops the old one');
  assert.notEqual(b, b2);
  cache.configure(0);
  assert.equal(cache.size, 0);
  assert.ok(!cache.admits(b2, 1));
});

async function read(path: string, cached: boolean): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const m of readIpcMessages(path, { cached })) if (m.body.length) out.push(m.body);
  return out;
}

test('DoGet reads come from memory once read, and a rewritten file is read anew', async () => {
  fileBodies.configure(64 * 1024 * 1024);
  const path = join(dir, 'data.arrows');
  const write = (values: number[]): void => writeFileSync(path, tableToIPC(new Table({ v: vectorFromArray(values, new Int32()) }), 'stream'));
  write([1, 2, 3]);
  const first = await read(path, true);
  const again = await read(path, true);
  assert.equal(again[0], first[0], 'the same buffer: served from memory');
  assert.notEqual((await read(path, false))[0], first[0], 'readers that did not ask get their own bytes');
  write([4, 5, 6, 7]);
  const changed = await read(path, true);
  assert.deepEqual([...new Int32Array(changed[0]!.buffer, changed[0]!.byteOffset, 4)], [4, 5, 6, 7]);
  // Same size, a new modification time: a new version too.
  write([9, 9, 9, 9]);
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  const touched = await read(path, true);
  assert.deepEqual([...new Int32Array(touched[0]!.buffer, touched[0]!.byteOffset, 4)], [9, 9, 9, 9]);
});
