/**
 * limits.sharedCallRate: two replicas sharing Redis count one principal's calls together, so a
 * principal spreading calls over them gets the configured rate, not twice it; counted in each
 * replica (the default) it gets the rate on each. With Redis down, a shared count fails closed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let redis: RedisServer;
const servers: TestServer[] = [];
const clients: FlightClient[] = [];

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all(servers.map((s) => s.stop()));
  await redis?.stop();
});

/** Two replicas with a burst of 6 calls and 1 call/s; the same principal logged in to each. */
async function pair(sharedCallRate: boolean): Promise<FlightClient[]> {
  const limits = { callsPerSecond: 1, callBurst: 6, sharedCallRate };
  const made = await Promise.all([0, 1].map(() => startTestServer({ demo: true, redisUrl: redis.url, limits }, { secure: true })));
  servers.push(...made);
  return Promise.all(
    made.map(async (s) => {
      const c = new FlightClient(s.uri);
      clients.push(c);
      // Logins are Handshakes, which the call rate does not count.
      await c.login('user1', 'pass1');
      return c;
    }),
  );
}

async function admitted(pairOf: FlightClient[], calls: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < calls; i++) {
    try {
      await pairOf[i % 2]!.getFlightInfo('db1');
      ok++;
    } catch (e) {
      assert.ok(e instanceof FlightgateError && e.statusName === 'RESOURCE_EXHAUSTED', String(e));
      assert.match(e.message, /limits\.callsPerSecond/);
    }
  }
  return ok;
}

test('counted in Redis, the burst is shared: twelve calls over two replicas, six pass', async () => {
  const n = await admitted(await pair(true), 12);
  // One more may have refilled while the calls ran (1 call/s).
  assert.ok(n >= 6 && n <= 7, `${n} calls passed`);
});

test('counted in each replica (the default), each grants the burst: all twelve pass', async () => {
  assert.equal(await admitted(await pair(false), 12), 12);
});

test('a shared count with Redis down fails closed: UNAVAILABLE, not admitted', async () => {
  const [a] = await pair(true);
  await redis.stop();
  try {
    await assert.rejects(a!.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAVAILABLE');
  } finally {
    await redis.start();
  }
});
