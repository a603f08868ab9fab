/**
 * An upload's file writes run behind its reading. What that must not change: a write that fails
 * (the disk full) fails the upload and leaves the dataset as it was, and every buffer handed in
 * is handed back once the file is done with it.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { Float64, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { ManagedStore } from '../../src/catalog/managed/managed-store.js';
import type { Upload } from '../../src/catalog/managed/upload.js';
import { splitIpcStream, summarize } from '../../src/ipc/message.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir('fg-upload-writes-');
after(() => rmSync(dir, { recursive: true, force: true }));

const table = new Table({ v: vectorFromArray(Array.from({ length: 100_000 }, (_, i) => i), new Float64()) });
const messages = splitIpcStream(tableToIPC(table, 'stream'));

async function send(u: Upload, times: number, onWritten: () => void): Promise<void> {
  const [schema] = messages;
  const s = summarize(schema!.header);
  await u.write({ header: schema!.header, body: schema!.body, kind: s.kind, rows: 0 }, onWritten);
  await batches(u, times, onWritten);
}

async function batches(u: Upload, times: number, onWritten: () => void): Promise<void> {
  const [, ...rest] = messages;
  for (let k = 0; k < times; k++) {
    for (const m of rest) {
      const x = summarize(m.header);
      await u.write({ header: m.header, body: m.body, kind: x.kind, rows: x.rows, decoded: x.decoded }, onWritten);
    }
  }
}

test('every buffer comes back once written, with 160 MB of batches arriving faster than the file takes them', async () => {
  const store = new ManagedStore(dir, false);
  await store.load();
  const u = store.begin('many', 'create');
  let written = 0;
  await send(u, 200, () => written++);
  const handed = 1 + 200 * (messages.length - 1);
  const result = await u.commit();
  assert.equal(result.rows, 200 * 100_000);
  assert.equal(written, handed, 'every buffer handed in is handed back');
  assert.equal((await store.get('many')!.stats()).records, 200 * 100_000);
});

test('a write that fails fails the upload: the dataset stays as it was, nothing is left behind', async () => {
  const store = new ManagedStore(dir, false);
  await store.load();
  const first = store.begin('kept', 'create');
  await send(first, 1, () => {});
  await first.commit();
  const u = store.begin('kept', 'replace');
  let written = 0;
  const [schema] = messages;
  const s = summarize(schema!.header);
  await u.write({ header: schema!.header, body: schema!.body, kind: s.kind, rows: 0 }, () => written++);
  // The disk fills up under the upload: its file handle's writes fail from now on.
  const fh = (u as unknown as { fh: { writev: () => Promise<never> } }).fh;
  fh.writev = async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  await assert.rejects(
    (async () => {
      await batches(u, 50, () => written++);
      await u.commit();
    })(),
    /ENOSPC/,
  );
  await u.abort();
  assert.equal((await store.get('kept')!.stats()).records, 100_000, 'the previous version is intact');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.upload')), [], 'no temporary file is left');
  assert.ok(written >= 1);
});
