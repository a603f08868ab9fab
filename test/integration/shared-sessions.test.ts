/**
 * Two flightgate processes sharing PostgreSQL and Redis, as replicas behind a load balancer:
 * each accepts the other's sessions and tickets and sees its revocations at once; and when Redis
 * or PostgreSQL goes away, calls fail with UNAVAILABLE (never succeed unchecked) and service
 * resumes by itself when they return.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

let redis: RedisServer;
let pg: PostgresServer;
let env: Record<string, string>;
let a: CliServer;
let b: CliServer;
const dirs: string[] = [];
const clients: FlightClient[] = [];

const status = (name: string) => (e: unknown) => {
  assert.ok(e instanceof FlightgateError, String(e));
  assert.equal(e.statusName, name, e.message);
  return true;
};

function client(server: CliServer, token?: string): FlightClient {
  const c = new FlightClient(server.uri, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  clients.push(c);
  return c;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  env = {
    FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
    FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FLIGHTGATE_REDIS_URL: redis.url,
    FLIGHTGATE_REGISTRY_CACHE_MS: '2000',
    FLIGHTGATE_AUDIT_FILE: '/dev/null',
    FLIGHTGATE_THROTTLE_LOCKOUT_FAILURES: '4',
  };
  // Replicas share the data directory too (the catalog of record is in PostgreSQL).
  dirs.push(tempDir());
  a = await startCliServer(['--demo', '--data-dir', dirs[0]!], env);
  b = await startCliServer(['--demo', '--data-dir', dirs[0]!], env);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([redis?.stop(), pg?.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** GET /readyz of a server: its status code and answer. */
async function readyz(server: { httpUri: string }): Promise<{ code: number; body: { status: string; checks: Record<string, string> } }> {
  const res = await fetch(`${server.httpUri}/readyz`);
  return { code: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
}

test('a session opened on one server works on the other, tickets too', async () => {
  const onA = client(a);
  const token = await onA.login('user1', 'pass1');
  const onB = client(b, token);
  assert.equal((await onB.readTable('db1')).numRows, 3);
  const info = await onA.getFlightInfo('db1');
  const rows = (await onB.doGet(info.endpoints[0]!.ticket).readAll()).numRows;
  assert.equal(rows, 3, 'a ticket issued by A is accepted by B');
  await assert.rejects(onB.getFlightInfo('db2'), status('PERMISSION_DENIED'));
});

test('CloseSession on one server ends the session on the other at once', async () => {
  const onA = client(a);
  const token = await onA.login('user1', 'pass1');
  const onB = client(b, token);
  await onB.getFlightInfo('db1');
  await onB.doAction('CloseSession');
  await assert.rejects(onA.getFlightInfo('db1'), status('UNAUTHENTICATED'));
  await assert.rejects(onB.getFlightInfo('db1'), status('UNAUTHENTICATED'));
});

test('disabling a user from the CLI ends their sessions on both servers at once', async () => {
  const role = await runCli(['roles', 'create', 'shared-readers'], env);
  assert.equal(role.code, 0, role.stderr);
  assert.equal((await runCli(['roles', 'grant', 'shared-readers', '--dataset', 'db1', '--action', 'read'], env)).code, 0);
  const add = await runCli(['users', 'add', 'carol', '--role', 'shared-readers', '--password-stdin'], env, 'carol-secret-1\n');
  assert.equal(add.code, 0, add.stderr);
  const onA = client(a);
  const token = await onA.login('carol', 'carol-secret-1');
  const onB = client(b, token);
  // The new grant reaches each server within its registry cache time.
  await eventually(async () => (await onB.getFlightInfo('db1')).totalRecords === 3, 'the new grant applies on B');
  await eventually(async () => (await client(a, token).getFlightInfo('db1')).totalRecords === 3, 'the new grant applies on A');
  const disable = await runCli(['users', 'disable', 'carol'], env);
  assert.equal(disable.code, 0, disable.stderr);
  await assert.rejects(onA.getFlightInfo('db1'), status('UNAUTHENTICATED'));
  await assert.rejects(onB.getFlightInfo('db1'), status('UNAUTHENTICATED'));
  await assert.rejects(client(b).login('carol', 'carol-secret-1'), status('UNAUTHENTICATED'));
});

test('failed logins count on every server sharing Redis: guesses spread over replicas lock the account', async () => {
  assert.equal((await runCli(['users', 'add', 'erin', '--role', 'shared-readers', '--password-stdin'], env, 'erin-secret-1\n')).code, 0);
  const servers = [a, b, a, b];
  for (const server of servers) await assert.rejects(client(server).login('erin', 'not-her-password'), status('UNAUTHENTICATED'));
  for (const server of [a, b]) {
    await assert.rejects(client(server).login('erin', 'erin-secret-1'), (e: unknown) => {
      assert.ok(e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
      assert.match(e.message, /too many failed logins/);
      return true;
    });
  }
  assert.ok((await client(b).login('user1', 'pass1')).startsWith('fgs_'), 'other accounts still log in');
});

test('Redis stopped: calls fail UNAVAILABLE, never succeed; logins resume by themselves when it is back', async () => {
  const onA = client(a);
  await onA.login('user1', 'pass1');
  await onA.getFlightInfo('db1');
  assert.deepEqual(await readyz(a), { code: 200, body: { status: 'ready', checks: { registry: 'ok', redis: 'ok' } } });
  await redis.stop();
  try {
    for (let i = 0; i < 5; i++) await assert.rejects(onA.getFlightInfo('db1'), status('UNAVAILABLE'));
    const down = await readyz(b);
    assert.equal(down.code, 503);
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.checks.registry, 'ok');
    assert.match(down.body.checks.redis ?? '', /^unavailable: /);
    await assert.rejects(client(b).login('user1', 'pass1'), status('UNAVAILABLE'));
    await assert.rejects(client(a).listFlights().next(), status('UNAUTHENTICATED'));
  } finally {
    await redis.start();
  }
  // This Redis keeps no data across restarts, so the old session is gone: a new login is needed.
  await eventually(async () => {
    const c = client(b);
    await c.login('user1', 'pass1');
    return (await c.readTable('db1')).numRows === 3;
  }, 'logins work again after Redis came back');
  await assert.rejects(onA.getFlightInfo('db1'), status('UNAUTHENTICATED'));
  assert.equal((await readyz(a)).code, 200);
});

test('PostgreSQL stopped: logins fail UNAVAILABLE, a failure drops the cache so session calls do too; then they resume', async () => {
  const onA = client(a);
  await onA.login('user1', 'pass1');
  await onA.getFlightInfo('db1'); // A now holds user1 and the grants in its 2 s cache
  await pg.stop();
  try {
    await assert.rejects(client(a).login('user1', 'pass1'), status('UNAVAILABLE'));
    const down = await readyz(a);
    assert.equal(down.code, 503);
    assert.match(down.body.checks.registry ?? '', /^unavailable: /);
    assert.equal(down.body.checks.redis, 'ok');
    // That failure dropped A's registry cache: the session call right after it is refused too,
    // although its cached answer was still fresh.
    await assert.rejects(onA.getFlightInfo('db1'), status('UNAVAILABLE'));
    // B never saw a failure; once its cache time (2 s here) has passed it must fail closed as well.
    const onB = client(b);
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 3; i++) await assert.rejects(onB.login('user1', 'pass1'), status('UNAVAILABLE'));
  } finally {
    await pg.start();
  }
  await eventually(async () => (await onA.getFlightInfo('db1')).totalRecords === 3, 'session calls work again');
  await eventually(async () => (await client(b).login('user1', 'pass1')).startsWith('fgs_'), 'logins work again');
  assert.equal(a.child.exitCode, null, 'server A stayed up');
  await eventually(async () => (await readyz(a)).code === 200, '/readyz is ready again');
  assert.equal(b.child.exitCode, null, 'server B stayed up');
});
