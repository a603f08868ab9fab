/**
 * The data directory is the server user's alone: started as an operator would (umask 022), the
 * server creates the directory 0700 and every file 0600 (registry, its WAL files, datasets and
 * uploads, the key-encryption key, the audit log); the ticket-signing key is encrypted at rest;
 * and an existing directory or registry open to others is reported at start.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { tableFromArrays } from 'apache-arrow';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runCli, startCliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function walk(dir: string, out: { path: string; mode: number; dir: boolean }[] = []): typeof out {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push({ path, mode: statSync(path).mode & 0o777, dir: entry.isDirectory() });
    if (entry.isDirectory()) walk(path, out);
  }
  return out;
}

test('a fresh data directory is 0700 and everything in it 0600, with umask 022', async () => {
  const parent = tempDir();
  dirs.push(parent);
  const dataDir = join(parent, 'data');
  const env = { FLIGHTGATE_AUDIT_FILE: join(dataDir, 'audit.log') };
  const previous = process.umask(0o022);
  let server;
  try {
    server = await startCliServer(['--demo', '--data-dir', dataDir], env);
  } finally {
    process.umask(previous);
  }
  const client = new FlightClient(server.uri);
  try {
    await client.login('admin', 'admin123');
    await client.doPut('uploaded', tableFromArrays({ n: new Int32Array([1, 2, 3]) }));
    assert.equal((await client.readTable('uploaded')).numRows, 3);
  } finally {
    await client.close();
  }
  const add = await runCli(['users', 'add', 'carol', '--password-stdin', '--data-dir', dataDir], {}, 'carol-password\n');
  assert.equal(add.code, 0, add.stderr);
  await server.stop();

  assert.equal(statSync(dataDir).mode & 0o777, 0o700, 'the data directory');
  const entries = walk(dataDir);
  for (const e of ['flightgate.db', 'key-encryption.key', 'audit.log', 'numbers.arrows']) assert.ok(entries.some((x) => x.path.endsWith(e)), `${e} exists`);
  assert.ok(entries.some((x) => x.path.includes('/datasets/uploaded/') && x.path.endsWith('.arrows')), 'the upload exists');
  for (const e of entries) assert.equal(e.mode, e.dir ? 0o700 : 0o600, `${e.path} is ${e.mode.toString(8)}`);

  // The ticket key is stored encrypted, not as the base64 of 32 bytes.
  const db = new Database(join(dataDir, 'flightgate.db'), { readonly: true });
  try {
    const row = db.prepare("select value from fg_secrets where name = 'ticket-hmac-key'").get() as { value: string };
    assert.match(row.value, /^v1\./);
    assert.notEqual(Buffer.from(row.value, 'base64').length, 32);
  } finally {
    db.close();
  }
});

test('an existing data directory and registry open to other users are reported at start; a clear ticket key is encrypted', async () => {
  const dataDir = tempDir();
  dirs.push(dataDir);
  // A registry made by an earlier version: ticket key in clear.
  const made = await runCli(['users', 'add', 'dave', '--password-stdin', '--data-dir', dataDir], {}, 'dave-password\n');
  assert.equal(made.code, 0, made.stderr);
  mkdirSync(join(dataDir, 'datasets'), { recursive: true });
  const db = new Database(join(dataDir, 'flightgate.db'));
  const clear = Buffer.alloc(32, 7).toString('base64');
  db.prepare("insert or replace into fg_secrets (name, value, created_at) values ('ticket-hmac-key', ?, 0)").run(clear);
  db.close();
  chmodSync(dataDir, 0o755);
  chmodSync(join(dataDir, 'flightgate.db'), 0o644);
  const server = await startCliServer(['--data-dir', dataDir], { FLIGHTGATE_AUDIT_FILE: '/dev/null' });
  try {
    const out = server.output.join('');
    assert.match(out, new RegExp(`${dataDir} is open to other users \\(mode 0755\\)`));
    assert.match(out, /flightgate\.db is open to other users \(mode 0644\)/);
  } finally {
    await server.stop();
  }
  const after = new Database(join(dataDir, 'flightgate.db'), { readonly: true });
  try {
    const row = after.prepare("select value from fg_secrets where name = 'ticket-hmac-key'").get() as { value: string };
    assert.match(row.value, /^v1\./, 'the clear key was encrypted in place');
  } finally {
    after.close();
  }
});
