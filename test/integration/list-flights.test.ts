/**
 * ListFlights against a real server process: criteria are globs matched in linear time (the
 * patterns that made a RegExp backtrack for seconds answer as fast as a normal one), permissions
 * are checked before the glob, criteria are capped, and a principal who may only list gets names:
 * no schema, no counts, no ticket.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
const env = { FLIGHTGATE_REGISTRY_CACHE_MS: '0', FLIGHTGATE_AUDIT_FILE: '/dev/null' };
let server: CliServer;
let admin: FlightClient;
let lister: FlightClient;

before(async () => {
  server = await startCliServer(['--demo', '--data-dir', dir], env);
  const cli = async (args: string[], input?: string) => {
    const r = await runCli([...args, '--data-dir', dir], env, input);
    assert.equal(r.code, 0, r.stderr);
  };
  await cli(['roles', 'create', 'listers']);
  await cli(['roles', 'grant', 'listers', '--dataset', 'db*', '--action', 'list']);
  await cli(['users', 'add', 'lister', '--role', 'listers', '--password-stdin'], 'lister-password\n');
  admin = new FlightClient(server.uri);
  await admin.login('admin', 'admin123');
  lister = new FlightClient(server.uri);
  await lister.login('lister', 'lister-password');
});

after(async () => {
  await admin?.close();
  await lister?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function names(client: FlightClient, criteria: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of client.listFlights(criteria, { timeoutMs: 10_000 })) out.push(info.descriptor?.path[0] ?? '?');
  return out.sort();
}

async function timed(criteria: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await names(admin, criteria);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

test('globs match as before: anchored, * and ?', async () => {
  assert.deepEqual(await names(admin, 'db?'), ['db1', 'db2']);
  assert.deepEqual(await names(admin, '*um*'), ['numbers']);
  assert.deepEqual(await names(admin, 'db'), []);
  assert.deepEqual(await names(admin, ''), ['db1', 'db2', 'numbers']);
});

test('pathological criteria of every length up to 256 answer about as fast as a normal one', async () => {
  const normal: number[] = [];
  for (let i = 0; i < 5; i++) normal.push(await timed('db*'));
  normal.sort((a, b) => a - b);
  const baseline = normal[2]!;
  let worst = 0;
  let worstPattern = '';
  for (let n = 1; n <= 256; n += n < 64 ? 1 : 16) {
    for (const pattern of ['*'.repeat(n - 1) + '#', '*a'.repeat(Math.floor(n / 2)) + '#', ('?*').repeat(Math.floor(n / 2))]) {
      if (pattern.length === 0 || pattern.length > 256) continue;
      const ms = await timed(pattern);
      if (ms > worst) [worst, worstPattern] = [ms, pattern];
    }
  }
  // A ratio to the normal call, with a millisecond of slack for scheduling noise on a busy machine.
  assert.ok(worst <= baseline * 3 + 1, `worst ${worst.toFixed(2)} ms (${worstPattern.slice(0, 20)}… ${worstPattern.length} chars) vs normal ${baseline.toFixed(2)} ms`);
});

test('criteria over 256 bytes are INVALID_ARGUMENT', async () => {
  await assert.rejects(names(admin, '*'.repeat(257)), (e: unknown) => e instanceof FlightgateError && e.statusName === 'INVALID_ARGUMENT' && /too long/.test(e.message));
});

test('a principal who may only list gets names: no schema, no counts, no ticket', async () => {
  const infos = [];
  for await (const info of lister.listFlights('')) infos.push(info);
  assert.deepEqual(infos.map((i) => i.descriptor?.path[0]).sort(), ['db1', 'db2'], 'only what it may list');
  for (const info of infos) {
    assert.equal(info.schema.length, 0);
    assert.equal(info.endpoints.length, 0);
    assert.equal(info.totalRecords, -1);
    assert.equal(info.totalBytes, -1);
  }
  await assert.rejects(lister.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'PERMISSION_DENIED');
  // What pyarrow makes of such an answer: a FlightInfo with no schema and no endpoint.
  const py = await runPython(['-c', `
import pyarrow.flight as fl, sys
c = fl.FlightClient(sys.argv[1])
opts = fl.FlightCallOptions(headers=[c.authenticate_basic_token(b"lister", b"lister-password")])
for info in c.list_flights(options=opts):
    print(info.descriptor.path[0].decode(), info.schema, len(info.endpoints), info.total_records)
`, server.uri]);
  assert.equal(py.code, 0, py.stderr);
  assert.deepEqual(py.stdout.trim().split('\n').sort(), ['db1 None 0 -1', 'db2 None 0 -1']);
});

test('a principal without grants sees nothing, whatever the criteria', async () => {
  const r = await runCli(['users', 'add', 'nobody', '--password-stdin', '--data-dir', dir], env, 'nobody-password\n');
  assert.equal(r.code, 0, r.stderr);
  const c = new FlightClient(server.uri);
  try {
    await c.login('nobody', 'nobody-password');
    assert.deepEqual(await names(c, ''), []);
    assert.deepEqual(await names(c, '*'.repeat(200) + '#'), []);
  } finally {
    await c.close();
  }
});
