/**
 * Outages under load: Redis, then PostgreSQL, killed while 20 clients keep calling, then
 * restarted. While a backend is down no call succeeds (beyond the registry cache's bounded
 * window), every failure is UNAVAILABLE, the server stays up, and service resumes by itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startCliServer, type CliServer } from '../helpers/cli-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/server.js';

const CACHE_MS = 1000;
const CALLERS = 20;
let redis: RedisServer;
let pg: PostgresServer;
let server: CliServer;

interface Outcome {
  start: number;
  end: number;
  ok: boolean;
  status?: string;
  message?: string;
}

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  server = await startCliServer(['--demo', '--data-dir', tempDir()], {
    FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
    FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FLIGHTGATE_REDIS_URL: redis.url,
    FLIGHTGATE_REGISTRY_CACHE_MS: String(CACHE_MS),
    FLIGHTGATE_AUDIT_FILE: '/dev/null',
  });
});

after(async () => {
  await server?.stop();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

/** Callers that keep calling (and log in again when their session is gone) until `stop` is set. */
function keepCalling(control: { stop: boolean }): { outcomes: Outcome[]; done: Promise<void> } {
  const outcomes: Outcome[] = [];
  const done = Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      const [user, password, dataset] = i % 2 ? ['user1', 'pass1', 'db1'] : ['user2', 'pass2', 'db2'];
      const client = new FlightClient(server.uri);
      let loggedIn = false;
      try {
        while (!control.stop) {
          const start = Date.now();
          try {
            if (!loggedIn) {
              await client.login(user!, password!);
              loggedIn = true;
            }
            await client.getFlightInfo(dataset!, { timeoutMs: 5000 });
            outcomes.push({ start, end: Date.now(), ok: true });
          } catch (err) {
            const e = err instanceof FlightgateError ? err : undefined;
            outcomes.push({ start, end: Date.now(), ok: false, status: e?.statusName ?? String(err), message: e?.message });
            if (e?.statusName === 'UNAUTHENTICATED') loggedIn = false;
          }
          await sleep(20);
        }
      } finally {
        await client.close();
      }
    }),
  ).then(() => undefined);
  return { outcomes, done };
}

async function outage(kill: () => Promise<void>, restart: () => Promise<void>, graceMs: number): Promise<{ during: Outcome[]; after: Outcome[] }> {
  const control = { stop: false };
  const { outcomes, done } = keepCalling(control);
  try {
    await sleep(1500);
    assert.ok(outcomes.filter((o) => o.ok).length > 50, 'callers succeed before the outage');
    const killedAt = Date.now();
    await kill();
    await sleep(3000);
    const restartedAt = Date.now();
    await restart();
    const deadline = Date.now() + 20_000;
    while (!outcomes.some((o) => o.ok && o.start > restartedAt) && Date.now() < deadline) await sleep(100);
    await sleep(500);
    // Calls that began once the backend was gone (plus the cache window) and ended before it was back.
    const during = outcomes.filter((o) => o.start > killedAt + graceMs && o.end < restartedAt);
    return { during, after: outcomes.filter((o) => o.start > restartedAt) };
  } finally {
    control.stop = true;
    await done;
  }
}

function summary(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.ok ? 'OK' : `${o.status}: ${o.message?.slice(0, 80)}`, (counts.get(o.ok ? 'OK' : `${o.status}: ${o.message?.slice(0, 80)}`) ?? 0) + 1);
  return JSON.stringify([...counts]);
}

test('Redis killed under load: every call in between fails UNAVAILABLE, none succeeds; service resumes by itself', async () => {
  const { during, after: later } = await outage(() => redis.kill(), () => redis.start(), 100);
  assert.ok(during.length > 100, `only ${during.length} calls during the outage`);
  assert.deepEqual(during.filter((o) => o.ok || o.status !== 'UNAVAILABLE').map((o) => o.status ?? 'OK'), [], summary(during));
  assert.ok(later.some((o) => o.ok), `no success after Redis came back: ${summary(later)}`);
  assert.equal(server.child.exitCode, null, 'the server stayed up');
});

test('PostgreSQL crashed under load: after the registry cache window every call fails UNAVAILABLE; service resumes by itself', async () => {
  const { during, after: later } = await outage(() => pg.kill(), () => pg.start(), CACHE_MS + 500);
  assert.ok(during.length > 50, `only ${during.length} calls during the outage`);
  assert.deepEqual(during.filter((o) => o.ok || o.status !== 'UNAVAILABLE').map((o) => o.status ?? 'OK'), [], summary(during));
  assert.ok(later.some((o) => o.ok), `no success after PostgreSQL came back: ${summary(later)}`);
  assert.equal(server.child.exitCode, null, 'the server stayed up');
  const ready = await fetch(`${server.httpUri}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
});
